import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

test('debug.mitm: off and unconfigured by default; the keys of the issue load, relative files resolve against the config; bad patterns and unknown keys are refused with their place', () => {
  const none = parseConfigText('client: {}\n', '/etc/sp/client-config.yaml', 'client');
  assert.equal(none.debug.mitm.enabled, false);
  assert.equal(none.debug.mitm.configured, false);
  const set = parseConfigText(
    'debug:\n  mitm:\n    enabled: true\n    hosts: ["*.example.com"]\n    ignore_hosts: ["pinned.example.com"]\n    passthrough_after_failures: 5\n    upstream_ca_file: corp-ca.pem\n',
    '/etc/sp/server-config.yaml',
    'server',
  );
  assert.deepEqual(set.debug.mitm, { enabled: true, configured: true, hosts: ['*.example.com'], ignoreHosts: ['pinned.example.com'], passthroughAfterFailures: 5, upstreamCaFile: '/etc/sp/corp-ca.pem', certCacheSize: 1000 });
  assert.throws(
    () => parseConfigText('debug:\n  mitm:\n    hosts: ["exa*mple.com"]\n', null, 'client'),
    (error: unknown) => error instanceof ConfigError && error.problems.some((p) => /debug\.mitm\.hosts.*"\*" is allowed only alone or as the first label/.test(p)),
  );
  assert.throws(
    () => parseConfigText('debug:\n  mitm:\n    intercept: true\n', null, 'client'),
    (error: unknown) => error instanceof ConfigError && error.problems.some((p) => /intercept/.test(p)),
  );
});
