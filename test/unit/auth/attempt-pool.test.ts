import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptPool } from '../../../src/auth/attempt-pool.js';

/** A pool with max failures in a 60 s window, recording what every worker is told. */
function pool(max = 3): { pool: AttemptPool<string>; told: [string, number, boolean][] } {
  const told: [string, number, boolean][] = [];
  return { pool: new AttemptPool<string>({ watch: (address, until, locked) => told.push([address, until, locked]), settings: () => ({ max, windowMs: 60_000 }) }), told };
}

test('a first failure makes the client watched everywhere; max failures over the workers lock it until its window ends', () => {
  const { pool: p, told } = pool(3);
  assert.equal(p.failed('a', '10.0.0.1', false, 1_000), 0);
  assert.deepEqual(told, [['10.0.0.1', 61_000, false]]);
  assert.equal(p.ask('b', '10.0.0.1', 2_000), 0);
  assert.equal(p.failed('b', '10.0.0.1', true, 2_000), 0);
  assert.equal(p.ask('a', '10.0.0.1', 3_000), 0);
  assert.equal(p.failed('a', '10.0.0.1', true, 3_000), 61_000, 'the third failure locks');
  assert.deepEqual(told.at(-1), ['10.0.0.1', 61_000, true]);
  assert.equal(p.ask('b', '10.0.0.1', 4_000), 61_000, 'refused on any worker');
  assert.deepEqual(p.watched(4_000), [{ address: '10.0.0.1', until: 61_000, locked: true }]);
  const toldBefore = told.length;
  assert.equal(p.failed('b', '10.0.0.1', false, 5_000), 0, 'a failure checked before the lock was known does not lock (and report) it again');
  assert.equal(told.length, toldBefore);
  // The window over: a new start.
  assert.equal(p.ask('b', '10.0.0.1', 62_000), 0);
  assert.deepEqual(p.watched(62_000), []);
});

test('attempts in flight count: with max - 1 failures one attempt runs at a time, the next waits for its outcome', async () => {
  const { pool: p } = pool(3);
  p.failed('a', '10.0.0.1', false);
  p.failed('a', '10.0.0.1', false);
  assert.equal(p.ask('a', '10.0.0.1'), 0);
  const waiting = p.ask('b', '10.0.0.1');
  assert.ok(waiting instanceof Promise, 'a second attempt could be the third failure: it waits');
  p.done('a', '10.0.0.1');
  assert.equal(await waiting, 0, 'the first was right: the next may go');
  const third = p.ask('a', '10.0.0.1');
  assert.ok(third instanceof Promise);
  const until = p.failed('b', '10.0.0.1', true);
  assert.ok(until > 0, 'the third failure locks');
  assert.equal(await third, until, 'the waiting one learns the lock');
});

test('a worker that exits frees its attempts in flight; a success does not clear failures', async () => {
  const { pool: p } = pool(2);
  p.failed('a', '10.0.0.1', false);
  assert.equal(p.ask('a', '10.0.0.1'), 0);
  const waiting = p.ask('b', '10.0.0.1');
  p.lost('a');
  assert.equal(await waiting, 0);
  p.done('b', '10.0.0.1');
  assert.deepEqual(p.watched().map((w) => w.locked), [false], 'still watched with one failure');
  assert.equal(p.ask('b', '10.0.0.1'), 0);
  assert.ok(p.failed('b', '10.0.0.1', true) > 0, 'the second failure locks at max 2');
});

test('a client asked about but never failing is not kept', () => {
  const { pool: p } = pool(3);
  assert.equal(p.ask('a', '10.0.0.9'), 0);
  p.done('a', '10.0.0.9');
  assert.deepEqual(p.watched(), []);
  assert.equal((p as unknown as { clients: Map<string, unknown> }).clients.size, 0);
});
