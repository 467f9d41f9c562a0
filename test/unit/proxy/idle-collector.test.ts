import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectWhenQuiet, runtimeGc } from '../../../src/proxy/idle-collector.js';

test('two full collections run 5 to 6 s after traffic went quiet, then the freed memory goes back to the system, once per quiet spell, and again after the next traffic', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const real = globalThis.gc;
  let collections = 0;
  const steps: string[] = [];
  globalThis.gc = (() => {
    collections++;
    steps.push('collect');
  }) as typeof globalThis.gc;
  t.after(() => (globalThis.gc = real));
  let activity = 0;
  collectWhenQuiet(() => activity, globalThis.gc, () => steps.push('return freed memory'));

  t.mock.timers.tick(6_000);
  assert.equal(collections, 2, 'once after start (the garbage of loading), two back to back: the second releases the pages the first emptied');
  t.mock.timers.tick(60_000);
  assert.equal(collections, 2, 'quiet on: nothing more to collect');

  // A burst of 3 s, then quiet (the closes of its connections move the count too).
  for (let s = 0; s < 3; s++) {
    activity += 100;
    t.mock.timers.tick(1_000);
  }
  t.mock.timers.tick(4_000);
  assert.equal(collections, 2, 'not before 5 s of quiet');
  t.mock.timers.tick(2_000);
  assert.equal(collections, 4, 'within 6 s of quiet');
  t.mock.timers.tick(60_000);
  assert.equal(collections, 4, 'once per quiet spell');
  assert.deepEqual(steps, ['collect', 'collect', 'return freed memory', 'collect', 'collect', 'return freed memory'], 'what the collections freed goes back after them, each time');
});

/** A weak reference to an object nothing else holds. */
function unheld(): WeakRef<object> {
  return new WeakRef({ payload: new Array(1_000).fill(1) });
}

test('runtimeGc gives a process started without --expose-gc (the daemon) a full collection', async () => {
  assert.equal(globalThis.gc, undefined, 'this test process runs without --expose-gc');
  const collect = runtimeGc();
  const ref = unheld();
  // A WeakRef keeps its target until the job that made it is over.
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  assert.equal(ref.deref(), undefined, 'what nothing held was collected');
});
