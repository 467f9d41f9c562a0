import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/limits/memory-store.js';
import { TokenBucket } from '../../../src/limits/token-bucket.js';

test('TokenBucket: burst, refill at the rate, debt for shared takers', () => {
  const bucket = new TokenBucket(10, 5, 0);
  for (let i = 0; i < 5; i++) assert.equal(bucket.tryTake(1, 0), 0);
  assert.equal(bucket.tryTake(1, 0), 100, 'one token comes back in 100 ms');
  assert.equal(bucket.tryTake(1, 100), 0);
  assert.equal(bucket.take(10, 100), 1000, 'a debt of 10 tokens takes a second to repay');
  assert.equal(bucket.take(10, 100), 2000, 'a second taker waits behind the first');
  assert.ok(bucket.full(100_000));
});

test('MemoryStore: every bucket passes or none is taken', async () => {
  const store = new MemoryStore();
  try {
    const ip = { key: 'ip:1', rate: 0.001, burst: 1 };
    const global = { key: 'global', rate: 0.001, burst: 2 };
    assert.equal(store.consume([ip, global]).ok, true);
    const refused = store.consume([ip, global]);
    assert.deepEqual([refused.ok, refused.refusedBy], [false, 0]);
    assert.ok(refused.retryAfterMs > 0);
    // The refused request took nothing from the global bucket: another client still gets its token.
    assert.equal(store.consume([{ key: 'ip:2', rate: 0.001, burst: 1 }, global]).ok, true);
    assert.deepEqual(store.consume([{ key: 'ip:3', rate: 0.001, burst: 1 }, global]).refusedBy, 1);
  } finally {
    await store.close();
  }
});
