import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { perProcessLimitsWarning } from '../../../src/policy/per-process-limits.js';

const RULES = 'backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n';
const server = (extra: string, workers = 2): ReturnType<typeof parseConfigText> =>
  parseConfigText(`server:\n  workers: ${workers}\n${extra}${RULES}`, 'server-config.yaml', 'server');

test('per-process limits: only connections per backend are named, with what N workers allow in all', () => {
  const snapshot = server(
    [
      'network:',
      '  limits: { max_connections: 1000, max_connections_per_ip: 10, max_connections_per_backend: 50 }',
      'rate_limiting:',
      '  enabled: true',
      '  global: { requests_per_second: 100, burst: 200 }',
      '  per_ip: { requests_per_second: 0.2, burst: 3 }',
      '  bandwidth: { enabled: true, max_mbps_per_connection: 5, max_mbps_per_ip: 10, max_mbps_total: 100 }',
      '',
    ].join('\n'),
    3,
  );
  assert.equal(
    perProcessLimitsWarning(snapshot, 3),
    'these limits hold per engine process and 3 run (server.workers: 3), so the whole proxy may get up to 3 times as much: ' +
      'network.limits.max_connections_per_backend 50 (up to 150); ' +
      'set server.workers: 1 for exact limits',
  );
});

test('per-process limits: per-client limits, bandwidth, the global rate, max_connections and failed logins are exact on any worker count', () => {
  assert.equal(perProcessLimitsWarning(server('', 0), 4), null, 'the default safety caps');
  const exact = server(
    'network:\n  limits: { max_connections: 100, max_connections_per_ip: 3 }\nrate_limiting:\n  enabled: true\n  global: { requests_per_second: 1, burst: 1 }\n  per_ip: { requests_per_second: 5, burst: 5 }\n  bandwidth: { enabled: true, max_mbps_per_ip: 10, max_mbps_total: 100 }\n',
    0,
  );
  assert.equal(perProcessLimitsWarning(exact, 4), null);
  const auth = parseConfigText(`server:\n  workers: 2\n  auth:\n    mode: native\n    failed_attempts: { max: 5, window: "30s" }\n${RULES}`, 'server-config.yaml', 'server');
  assert.equal(perProcessLimitsWarning(auth, 2), null);
});

test('per-process limits: one engine process has exact limits', () => {
  assert.equal(perProcessLimitsWarning(server('network:\n  limits: { max_connections_per_backend: 5 }\n', 1), 1), null);
  assert.match(perProcessLimitsWarning(server('network:\n  limits: { max_connections_per_backend: 5 }\n', 0), 2) ?? '', /2 run \(server\.workers: 0, one per core\)/);
});
