import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { perProcessLimitsWarning } from '../../../src/policy/per-process-limits.js';

const RULES = 'backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n';
const server = (extra: string, workers = 2): ReturnType<typeof parseConfigText> =>
  parseConfigText(`server:\n  workers: ${workers}\n${extra}${RULES}`, 'server-config.yaml', 'server');

test('per-process limits: each configured limit is named with its value and what N workers allow in all', () => {
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
    'these limits hold per engine process and 3 run (server.workers: 3), so a client or the whole proxy may get up to 3 times as much: ' +
      'rate_limiting.global 100 requests/s burst 200 (up to 300 requests/s burst 600), rate_limiting.per_ip 0.2 requests/s burst 3 (up to 0.6 requests/s burst 9), ' +
      'rate_limiting.bandwidth.max_mbps_per_ip 10 Mbit/s (up to 30 Mbit/s), rate_limiting.bandwidth.max_mbps_total 100 Mbit/s (up to 300 Mbit/s), ' +
      'network.limits.max_connections 1000 (up to 3000), network.limits.max_connections_per_ip 10 (up to 30), network.limits.max_connections_per_backend 50 (up to 150); ' +
      'set server.workers: 1 for exact limits, or state.store: redis to share the request-rate limits',
  );
});

test('per-process limits: default caps and switched-off limits give no warning; Redis takes the request rates out; auth adds its failed-attempt limit', () => {
  assert.equal(perProcessLimitsWarning(server('', 0), 4), null, 'the default safety caps alone warn of nothing');
  const capped = perProcessLimitsWarning(server('network:\n  limits: { max_connections_per_ip: 20 }\n', 0), 4);
  assert.match(capped ?? '', /4 run \(server\.workers: 0, one per core\)/);
  assert.match(capped ?? '', /: network\.limits\.max_connections_per_ip 20 \(up to 80\); set server\.workers: 1 for exact limits$/);
  assert.doesNotMatch(capped ?? '', /per_backend|rate_limiting|auth|max_connections 10000/, 'per-backend 0, rate limiting off and the default total cap are left out');

  const shared = perProcessLimitsWarning(server('rate_limiting:\n  enabled: true\n  per_ip: { requests_per_second: 5, burst: 10 }\nstate:\n  store: redis\n  redis: { url: "redis://127.0.0.1:6379/0" }\n'), 2);
  assert.doesNotMatch(shared ?? '', /rate_limiting\.per_ip|state\.store/, 'shared through Redis');

  const auth = parseConfigText(
    `server:\n  workers: 2\n  auth:\n    mode: native\n    failed_attempts: { max: 5, window: "30s" }\n${RULES}`,
    'server-config.yaml',
    'server',
  );
  assert.match(perProcessLimitsWarning(auth, 2) ?? '', /server\.auth\.failed_attempts\.max 5 per 30s \(up to 10 per 30s\)/);
});

test('per-process limits: one engine process has exact limits', () => {
  assert.equal(perProcessLimitsWarning(server('rate_limiting:\n  enabled: true\n  global: { requests_per_second: 1, burst: 1 }\n', 1), 1), null);
  assert.equal(perProcessLimitsWarning(server('', 0), 1), null, 'workers 0 on one core');
});
