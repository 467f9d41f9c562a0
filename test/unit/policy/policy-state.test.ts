import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { Policy, PolicyState } from '../../../src/policy/policy.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';

const config = (perBackend: number) =>
  parseConfigText(`network:\n  limits:\n    max_connections_per_backend: ${perBackend}\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n`, null, 'server');
const info = { protocol: 'http' as const, client: '127.0.0.1', host: 'example.test', port: 80 };

test('PolicyState: a change in the count per backend is urgent only within 4,096 of max_connections_per_backend over every worker (a reload moves the line)', () => {
  const state = new PolicyState({ hit: () => undefined, warn: () => undefined });
  const changes: boolean[] = [];
  state.backendsChanged = (near) => changes.push(near);
  let policy = new Policy(config(100_000), state);
  const records = [{}, {}].map((r) => r as ConnectionRecord);
  assert.equal(policy.acquireBackend(records[0], 'direct', info), null);
  state.release(records[0]);
  assert.deepEqual(changes, [false, false], 'far from the cap: reported lazily');

  changes.length = 0;
  state.backendsElsewhere = new Map([['direct', 100_000 - 4_096]]);
  assert.equal(policy.acquireBackend(records[0], 'direct', info), null);
  state.release(records[0]);
  assert.deepEqual(changes, [true, true], 'the other workers near the cap: reported at once, taken and given back');

  changes.length = 0;
  state.backendsElsewhere = new Map();
  policy = new Policy(config(3), state);
  assert.equal(policy.acquireBackend(records[1], 'direct', info), null);
  state.release(records[1]);
  assert.deepEqual(changes, [true, true], 'a small cap set by a reload: every change at once');
});
