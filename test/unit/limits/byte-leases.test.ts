import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLeases } from '../../../src/limits/byte-leases.js';

const RATE = 1_000_000;
/** About 75 ms of RATE. */
const LEASE = 75_000;

function link(): { leases: ByteLeases; asks: number[]; returned: number[] } {
  const asks: number[] = [];
  const returned: number[] = [];
  const leases = new ByteLeases({
    ask: (id, _key, _rate, bytes) => (asks.push(id), bytes === LEASE),
    giveBack: (_key, _rate, bytes) => returned.push(bytes),
  });
  return { leases, asks, returned };
}

test('a leased budget asks once while it waits, asks ahead before it is empty, and spends a grant without asking', () => {
  const { leases, asks } = link();
  const budget = leases.hold('ip:10.0.0.1:down', RATE);
  assert.ok(budget.take(1_000) > 0, 'nothing leased yet: the taker waits');
  budget.take(1_000);
  assert.equal(asks.length, 1, 'one ask in flight, not one per chunk');
  leases.granted(asks[0], LEASE);
  assert.equal(asks.length, 1, 'a grant that leaves more than half a lease asks for nothing');
  assert.equal(budget.take(40_000), 0, 'leased bytes pass at once');
  assert.equal(asks.length, 2, 'under half a lease left: the next one is asked for before this one is spent');
});

test('a released budget gives back what it holds, and a grant that comes after goes straight back', () => {
  const { leases, asks, returned } = link();
  const budget = leases.hold('total:up', RATE);
  budget.take(10_000);
  leases.granted(asks[0], LEASE);
  budget.take(35_000);
  budget.release();
  assert.deepEqual(returned, [LEASE - 45_000]);
  leases.granted(asks[1], LEASE);
  assert.deepEqual(returned, [LEASE - 45_000, LEASE], 'the late grant is not kept');
});
