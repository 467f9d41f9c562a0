import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeasedStore } from '../../../src/limits/leased-store.js';
import { MemoryStore } from '../../../src/limits/memory-store.js';
import { PrimaryStore } from '../../../src/limits/primary-store.js';
import { PASS, type BucketRequest } from '../../../src/limits/limiter-store.js';

/** A worker's leased store whose primary is a real MemoryStore, answering asynchronously; counts the messages. */
function worker(primary: MemoryStore): { store: LeasedStore; messages: () => number } {
  let sent = 0;
  const remote: PrimaryStore = new PrimaryStore((id, buckets, lease) => {
    sent++;
    setImmediate(() => remote.answer(id, primary.consume(buckets, lease)));
    return true;
  });
  return { store: new LeasedStore(remote), messages: () => sent };
}

const ip = (rate: number, burst: number): BucketRequest => ({ key: 'ip:127.0.0.1', rate, burst });

test('per-client tokens come in chunks of about 30 ms of the rate: most requests cost no message', async (t) => {
  const primary = new MemoryStore();
  t.after(() => primary.close());
  const { store, messages } = worker(primary);
  let passed = 0;
  for (let i = 0; i < 100; i++) if ((await store.consume([ip(1000, 100)])).ok) passed++;
  assert.equal(passed, 100);
  assert.ok(messages() <= 5, `${messages()} messages for 100 requests (30 a chunk)`);
});

test('two workers share one bucket: the burst holds over both', async (t) => {
  const primary = new MemoryStore();
  t.after(() => primary.close());
  const a = worker(primary).store;
  const b = worker(primary).store;
  let passed = 0;
  for (let i = 0; i < 40; i++) if ((await (i % 2 === 0 ? a : b).consume([ip(0.001, 10)])).ok) passed++;
  assert.equal(passed, 10);
});

test('a leased token taken for a request another bucket refuses goes back to the lease', async (t) => {
  const primary = new MemoryStore();
  t.after(() => primary.close());
  const { store } = worker(primary);
  const global: BucketRequest = { key: 'global', rate: 0.001, burst: 1 };
  // Rate 100/s: this first request leases two more tokens.
  assert.equal((await store.consume([ip(100, 10), global])).ok, true);
  const refused = await store.consume([ip(100, 10), global]);
  assert.deepEqual([refused.ok, refused.refusedBy], [false, 1], 'refused by the global bucket, named at its own index');
  for (let i = 0; i < 2; i++) assert.equal(store.consume([ip(100, 10)]), PASS, 'the leased tokens are still here, spent at once without a message');
});
