import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotLeases } from '../../../src/policy/slot-leases.js';
import { SlotPool } from '../../../src/policy/slot-pool.js';

/** A primary's pool and `count` workers' leases, their messages delivered asynchronously and in order as over IPC. */
function cluster(count: number, cap: number): { workers: SlotLeases[]; pool: SlotPool<number>; dead: Set<number> } {
  const workers: SlotLeases[] = [];
  const dead = new Set<number>();
  const later = (fn: () => void): void => void setImmediate(fn);
  const pool: SlotPool<number> = new SlotPool(count, {
    workers: () => workers.map((_, i) => i).filter((i) => !dead.has(i)),
    reclaim: (w, address) => new Promise((resolve) => later(() => resolve(workers[w].reclaim(address)))),
    grant: (w, address, held) => later(() => workers[w].granted(address, held)),
    unpin: (address) => later(() => workers.forEach((worker) => worker.unpin(address))),
    cap: () => cap,
  });
  for (let i = 0; i < count; i++) {
    const leases = new SlotLeases(count, {
      ask: (address, open, want) => (later(() => pool.ask(i, address, open, want)), true),
      release: (address) => (later(() => pool.release(i, address)), true),
    });
    leases.configure(cap);
    workers.push(leases);
  }
  return { workers, pool, dead };
}

test('the cap holds over every worker, whichever each connection reaches', async () => {
  const { workers } = cluster(3, 5);
  const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => workers[i % 3].admit('a')));
  assert.equal(verdicts.filter(Boolean).length, 5);
  assert.equal(workers.reduce((n, w) => n + w.open('a'), 0), 5);
  assert.equal(await workers[0].admit('b'), true, 'another client has its own');
});

test('slots freed on one worker are reclaimed for another; a client with nothing open is forgotten', async () => {
  const { workers, pool } = cluster(2, 3);
  const first = await Promise.all([0, 0, 0].map((w) => workers[w].admit('a')));
  assert.deepEqual(first, [true, true, true]);
  assert.equal(await workers[1].admit('a'), false);
  workers[0].release('a');
  assert.equal(await workers[1].admit('a'), true, 'the idle slot on worker 0 came back');
  assert.equal(await workers[1].admit('a'), false);
  for (const [w, n] of [[0, 2], [1, 1]] as const) for (let i = 0; i < n; i++) workers[w].release('a');
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(pool.pinned(), []);
});

test('a dead worker\'s slots go back to the pool', async () => {
  const { workers, pool, dead } = cluster(2, 2);
  assert.deepEqual(await Promise.all([workers[0].admit('a'), workers[0].admit('a')]), [true, true]);
  assert.equal(await workers[1].admit('a'), false);
  dead.add(0);
  pool.lost(0);
  assert.equal(await workers[1].admit('a'), true);
});
