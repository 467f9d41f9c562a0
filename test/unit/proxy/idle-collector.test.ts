import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectWhenQuiet, runtimeGc } from '../../../src/proxy/idle-collector.js';

test('two full collections run 5 to 6 s after traffic went quiet, then the freed memory goes back to the system, once per quiet spell, and again after the next traffic', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const steps: string[] = [];
  let activity = 0;
  collectWhenQuiet({
    activity: () => activity,
    compact: true,
    collect: (compact) => steps.push(compact ? 'compact' : 'collect'),
    release: () => steps.push('return freed memory'),
  });
  const collections = (): number => steps.filter((step) => step !== 'return freed memory').length;

  t.mock.timers.tick(6_000);
  assert.equal(collections(), 2, 'once after start (the garbage of loading), two back to back: the second releases the pages the first emptied');
  t.mock.timers.tick(60_000);
  assert.equal(collections(), 2, 'quiet on: nothing more to collect');

  // A burst of 3 s, then quiet (the closes of its connections move the count too).
  for (let s = 0; s < 3; s++) {
    activity += 100;
    t.mock.timers.tick(1_000);
  }
  t.mock.timers.tick(4_000);
  assert.equal(collections(), 2, 'not before 5 s of quiet');
  t.mock.timers.tick(2_000);
  assert.equal(collections(), 4, 'within 6 s of quiet');
  t.mock.timers.tick(60_000);
  assert.equal(collections(), 4, 'once per quiet spell');
  assert.deepEqual(
    steps,
    ['compact', 'collect', 'return freed memory', 'compact', 'collect', 'return freed memory'],
    'asked to, the first collection compacts; what they freed goes back after them, each time',
  );
});

test('a process that serves traffic (no `compact`) never compacts: the holes of its heap take in the next burst', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const steps: string[] = [];
  let activity = 0;
  collectWhenQuiet({ activity: () => activity, collect: (compact) => steps.push(compact ? 'compact' : 'collect'), release: () => undefined });
  t.mock.timers.tick(6_000);
  activity += 9_000;
  t.mock.timers.tick(7_000);
  assert.deepEqual(steps, ['collect', 'collect', 'collect', 'collect']);
});

test('without a collection (no --expose-gc and none given) nothing is scheduled', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  assert.equal(globalThis.gc, undefined, 'this test process runs without --expose-gc');
  let asked = 0;
  collectWhenQuiet({
    activity: () => asked++,
    compact: true,
    release: () => assert.fail('nothing to release after'),
  });
  t.mock.timers.tick(60_000);
  assert.equal(asked, 0, 'the activity count was never read');
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
