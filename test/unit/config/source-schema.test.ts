import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { displayUrl } from '../../../src/config/source-schema.js';
import { ConfigError } from '../../../src/errors.js';

const problems = (text: string, origin?: string): string[] => {
  try {
    parseConfigText(text, '/etc/simple-proxy/server-config.yaml', 'server', origin ? { origin } : {});
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
};

test('config.source: url, pin, interval and ca_file normalised (ca_file beside the local file)', () => {
  const snapshot = parseConfigText(`config:\n  source:\n    url: https://cfg.internal/fleet.yaml\n    sha256: ${'AB'.repeat(32)}\n    ca_file: fleet-ca.pem\n`, '/etc/simple-proxy/server-config.yaml', 'server');
  assert.deepEqual(snapshot.configSource, { url: 'https://cfg.internal/fleet.yaml', sha256: 'ab'.repeat(32), intervalMs: 60_000, caFile: '/etc/simple-proxy/fleet-ca.pem' });
});

test('config.source: plain http, a short pin, a sub-second interval and keys beside it are refused with their place', () => {
  assert.deepEqual(problems('config:\n  source:\n    url: http://127.0.0.1/x.yaml\n    sha256: abc\n    interval: 10ms\nrules: []\n'), [
    'server-config.yaml:3:10: config.source.url: expected an https:// URL (plain http is refused: the config carries credentials)',
    'server-config.yaml:4:13: config.source.sha256: expected the 64 hex digits of a SHA-256 hash (sha256sum FILE)',
    'server-config.yaml:5:15: config.source.interval: expected at least 1s',
  ]);
  assert.deepEqual(problems('config:\n  source: { url: "https://cfg.internal/x.yaml" }\nrules: []\n'), ['server-config.yaml:3:1: rules: with config.source the whole config comes from the URL; "rules" belongs in the config served there']);
});

test('a config fetched from config.source names the URL in its problems and may not point to another source', () => {
  assert.deepEqual(problems('config:\n  source: { url: "https://other/x.yaml" }\n', 'https://cfg.internal/x.yaml'), [
    'https://cfg.internal/x.yaml:1:1: config: a config fetched from config.source cannot name another source; leave "config:" out of it',
  ]);
  assert.match(problems('server:\n  http_prot: 1\n', 'https://cfg.internal/x.yaml')[0], /^https:\/\/cfg\.internal\/x\.yaml:2:3: server\.http_prot: unknown key/);
});

test('a password in the source URL is masked wherever the URL is shown', () => {
  assert.equal(displayUrl('https://fleet:s3cret@cfg.internal/x.yaml'), 'https://fleet:***@cfg.internal/x.yaml');
  assert.equal(displayUrl('https://cfg.internal/x.yaml'), 'https://cfg.internal/x.yaml');
});
