import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotLeases } from '../../../src/policy/slot-leases.js';

/** A worker's leases with the messages it sends recorded (the primary answers by hand). */
function leases(processes: number, cap: number, connected = true): { slots: SlotLeases; sent: string[] } {
  const sent: string[] = [];
  const slots = new SlotLeases(processes, {
    ask: (address, open, want) => (sent.push(`ask ${address} ${open} ${want}`), connected),
    release: (address) => (sent.push(`release ${address}`), connected),
  });
  slots.configure(cap);
  return { slots, sent };
}

test('within its share of the cap a worker admits and releases without a message', () => {
  const { slots, sent } = leases(2, 8);
  for (let i = 0; i < 4; i++) assert.equal(slots.admit('a'), true);
  slots.release('a');
  assert.equal(slots.admit('a'), true);
  assert.equal(slots.open('a'), 4);
  assert.deepEqual(sent, []);
});

test('past its share a connection waits for the primary: granted slots admit, none refuses', async () => {
  const { slots, sent } = leases(2, 3);
  assert.equal(slots.admit('a'), true);
  const second = slots.admit('a');
  const third = slots.admit('a');
  assert.ok(second instanceof Promise && third instanceof Promise);
  assert.deepEqual(sent, ['ask a 1 1'], 'one ask in flight; the third waits with it');
  slots.granted('a', 2);
  assert.equal(await second, true);
  assert.deepEqual(sent, ['ask a 1 1', 'ask a 2 1'], 'the one still waiting asks again');
  slots.granted('a', 2);
  assert.equal(await third, false, 'nothing more granted: the cap is reached');
  assert.equal(slots.open('a'), 2);
});

test('idle slots stay until the primary reclaims them; nothing open gives them all back', () => {
  const { slots, sent } = leases(2, 4);
  slots.reclaim('a');
  const waiting = slots.admit('a');
  slots.granted('a', 3);
  assert.equal(slots.admit('a'), true);
  assert.equal(slots.admit('a'), true);
  slots.release('a');
  assert.equal(slots.reclaim('a'), 2, 'held goes down to what is open');
  void waiting;
  slots.release('a');
  slots.release('a');
  assert.deepEqual(sent.slice(-1), ['release a']);
  slots.unpin('a');
  assert.equal(slots.admit('a'), true, 'unpinned: the share again, no message');
});

test('a lower cap drops idle slots; a worker cut off from its primary lets connections go', async () => {
  const { slots } = leases(2, 10);
  slots.reclaim('a');
  void slots.admit('a');
  slots.granted('a', 5);
  slots.configure(4);
  assert.ok(slots.admit('a') instanceof Promise, 'the idle slots went with the old cap');
  const cut = leases(2, 2, false).slots;
  assert.equal(cut.admit('b'), true);
  assert.equal(await cut.admit('b'), true);
});
