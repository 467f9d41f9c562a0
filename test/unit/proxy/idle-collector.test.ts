import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { collectWhenQuiet, runtimeGc } from '../../../src/proxy/idle-collector.js';

/** Moves the mock clock on by `ms` a quarter second at a time: a timer set by one that fired runs only at a later tick. */
function advance(t: TestContext, ms: number): void {
  for (let left = ms; left > 0; left -= 250) t.mock.timers.tick(Math.min(250, left));
}

/** Collections and releases collectWhenQuiet runs over `activity`, with `compact` as given; the mock timers must be on. */
function watched(activity: () => number, compact?: boolean): { steps: string[]; collections(): number } {
  const steps: string[] = [];
  collectWhenQuiet({
    activity,
    compact,
    collect: (compacting) => steps.push(compacting ? 'compact' : 'collect'),
    release: () => steps.push('return freed memory'),
  });
  return { steps, collections: () => steps.filter((step) => step !== 'return freed memory').length };
}

test('two full collections run 6 s after traffic went quiet, then the freed memory goes back to the system, once per quiet spell, and again after the next traffic', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let activity = 0;
  const { steps, collections } = watched(() => activity, true);

  advance(t, 5_750);
  assert.equal(collections(), 0, 'not before 6 s');
  advance(t, 250);
  assert.equal(collections(), 2, 'once after start (the garbage of loading), two back to back: the second releases the pages the first emptied');
  advance(t, 60_000);
  assert.equal(collections(), 2, 'quiet on: nothing more to collect');

  // A small spell of 3 s (300 connections and requests, opened or closed), then quiet.
  for (let s = 0; s < 3; s++) {
    activity += 100;
    advance(t, 1_000);
  }
  advance(t, 4_500);
  assert.equal(collections(), 2, 'not before 6 s of quiet: a spell this small is not collected at every pause');
  advance(t, 2_000);
  assert.equal(collections(), 4, 'within 6 s of quiet, and the second of activity it takes to see it');
  advance(t, 60_000);
  assert.equal(collections(), 4, 'once per quiet spell');
  assert.deepEqual(
    steps,
    ['compact', 'collect', 'return freed memory', 'compact', 'collect', 'return freed memory'],
    'asked to, the first collection compacts; what they freed goes back after them, each time',
  );
});

test('a burst of 1,000 or more connections and requests is collected 1 s after it, and again once quiet for 6 s', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let activity = 0;
  const { collections } = watched(() => activity);
  advance(t, 60_000);
  assert.equal(collections(), 2, 'after start');

  // 9,000 tunnels opened over 3 s, a pause of half a second at most between any two.
  activity += 1_500;
  advance(t, 1_000);
  for (let step = 0; step < 5; step++) {
    activity += 1_500;
    advance(t, 500);
  }
  advance(t, 250);
  assert.equal(collections(), 2, 'not while the burst may go on');
  advance(t, 1_000);
  assert.equal(collections(), 4, 'within 1 s of quiet, and the quarter second it takes to see it');
  advance(t, 4_000);
  assert.equal(collections(), 4, 'not again before 6 s of quiet');
  advance(t, 1_000);
  assert.equal(collections(), 6, 'again after 6 s: the early collections leave some of the burst behind');
  advance(t, 60_000);
  assert.equal(collections(), 6, 'twice at most per quiet spell');

  // The 9,000 tunnels close at once: a burst too.
  activity += 9_000;
  advance(t, 2_000);
  assert.equal(collections(), 8, 'within 1 s of quiet (seen within the second after the closes)');
});

test('an idle process reads the activity count once a second, four times while a collection is due', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let reads = 0;
  let activity = 0;
  watched(() => (reads++, activity));
  advance(t, 6_000);
  reads = 0;
  advance(t, 10_000);
  assert.equal(reads, 10, 'once a second with nothing due');
  activity++;
  advance(t, 1_000);
  reads = 0;
  advance(t, 1_000);
  assert.equal(reads, 4, 'four times a second while a collection is due');
});

test('a process that serves traffic (no `compact`) never compacts: the holes of its heap take in the next burst', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let activity = 0;
  const { steps } = watched(() => activity);
  advance(t, 6_000);
  activity += 9_000;
  advance(t, 8_000);
  assert.deepEqual(steps.filter((step) => step !== 'return freed memory'), ['collect', 'collect', 'collect', 'collect', 'collect', 'collect']);
});

test('without a collection (no --expose-gc and none given) nothing is scheduled', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  assert.equal(globalThis.gc, undefined, 'this test process runs without --expose-gc');
  let asked = 0;
  collectWhenQuiet({
    activity: () => asked++,
    compact: true,
    release: () => assert.fail('nothing to release after'),
  });
  advance(t, 60_000);
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
