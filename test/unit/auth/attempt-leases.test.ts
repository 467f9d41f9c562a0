import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptLeases } from '../../../src/auth/attempt-leases.js';
import { FailureLimiter } from '../../../src/auth/failure-limiter.js';

/** Leases whose messages are recorded; `connected` false: cut off from the primary. */
function leases(connected = true): { leases: AttemptLeases; sent: unknown[][]; failures: FailureLimiter } {
  const sent: unknown[][] = [];
  const failures = new FailureLimiter(3, 60_000);
  const l = new AttemptLeases({
    ask: (id, address) => (sent.push(['ask', id, address]), connected),
    done: (address) => (sent.push(['done', address]), connected),
    failed: (id, address, leased) => (sent.push(['failed', id, address, leased]), connected),
  });
  l.follow(failures);
  return { leases: l, sent, failures };
}

test('a client the primary has not named costs no message; a watched one asks, until its window ends', () => {
  const { leases: l, sent } = leases();
  const now = Date.now();
  assert.equal(l.watches('10.0.0.1', now), false);
  l.watch('10.0.0.1', now + 1_000, false, now);
  assert.equal(l.watches('10.0.0.1', now), true);
  assert.equal(l.watches('10.0.0.1', now + 1_000), false, 'the window is over');
  assert.deepEqual(sent, []);
});

test('the go-ahead and the failure count come from the primary; a lock it names is kept locally', async () => {
  const { leases: l, sent, failures } = leases();
  const asked = l.ask('10.0.0.1');
  assert.deepEqual(sent, [['ask', 0, '10.0.0.1']]);
  l.answer(0, 0);
  assert.equal(await asked, 0);
  const failed = l.failed('10.0.0.1', true);
  const until = Date.now() + 30_000;
  l.answer(1, until);
  assert.equal(await failed, until);
  assert.ok(failures.blockedFor('10.0.0.1') > 0, 'locked here without a local count');
  l.watch('10.0.0.2', until, true);
  assert.ok(failures.blockedFor('10.0.0.2') > 0, 'a lock told to every worker');
});

test('cut off from the primary (exiting), the worker decides alone', async () => {
  const { leases: l } = leases(false);
  assert.equal(await l.ask('10.0.0.1'), 0, 'the attempt goes');
  assert.equal(await l.failed('10.0.0.1', true), null, 'the local count decides');
});
