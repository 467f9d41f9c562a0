import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { needsOneDoor } from '../../../src/policy/one-door.js';

const RULES = 'backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n';
const server = (extra: string): ReturnType<typeof parseConfigText> => parseConfigText(`server:\n  workers: 2\n${extra}${RULES}`, 'server-config.yaml', 'server');

test('one door: a per-client limit set in the file sends a client to one engine process', () => {
  assert.equal(needsOneDoor(server('rate_limiting:\n  enabled: true\n  bandwidth: { enabled: true, max_mbps_per_ip: 10 }\n')), true, 'max_mbps_per_ip');
});

test('one door: without one (default caps, global limits, a rate limit switched off) the workers accept themselves', () => {
  assert.equal(needsOneDoor(server('')), false, 'defaults');
  assert.equal(needsOneDoor(server('network:\n  limits: { max_connections: 5, max_connections_per_ip: 256 }\n')), false, 'max_connections and the default per-IP cap');
  assert.equal(needsOneDoor(server('network:\n  limits: { max_connections_per_ip: 0 }\n')), false, 'no per-IP cap');
  assert.equal(needsOneDoor(server('network:\n  limits: { max_connections_per_ip: 3 }\n')), false, 'a per-IP cap (its slots are leased from the primary)');
  assert.equal(needsOneDoor(server('rate_limiting:\n  enabled: true\n  per_ip: { requests_per_second: 5, burst: 5 }\n')), false, 'per_ip rate (its tokens are leased from the primary)');
  assert.equal(needsOneDoor(server('rate_limiting:\n  enabled: false\n  per_ip: { requests_per_second: 5, burst: 5 }\n')), false, 'rate limiting off');
  assert.equal(needsOneDoor(server('rate_limiting:\n  enabled: true\n  global: { requests_per_second: 5, burst: 5 }\n')), false, 'global rate (counted by the primary)');
  const users = 'server:\n  workers: 2\n  auth:\n    mode: native\n    native: { users: [] }\n';
  assert.equal(needsOneDoor(parseConfigText(`${users}${RULES}`, 'server-config.yaml', 'server')), false, 'failed-login lockouts (counted by the primary)');
});
