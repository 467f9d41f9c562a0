import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLeases } from '../../../src/limits/byte-leases.js';
import type { Hold } from '../../../src/limits/hold.js';

const RATE = 1_000_000;
/** About 75 ms of RATE. */
const LEASE = 75_000;

function link(connected = () => true): { leases: ByteLeases; asks: number[]; returned: number[] } {
  const asks: number[] = [];
  const returned: number[] = [];
  const leases = new ByteLeases({
    ask: (id, _key, _rate, bytes) => connected() && (asks.push(id), bytes === LEASE),
    giveBack: (_key, _rate, bytes) => returned.push(bytes),
  });
  return { leases, asks, returned };
}

/** The order in which `holds` let their takers go, filled in as they do. */
function follow(holds: Hold[]): number[] {
  const order: number[] = [];
  holds.forEach((hold, i) => {
    assert.notEqual(typeof hold, 'number', `taker ${i} waits for grants, not a time`);
    if (typeof hold !== 'number') hold.onGranted(() => order.push(i));
  });
  return order;
}

/** Resolves with the order in which `holds` let their takers go, once `settle` ran and the microtasks after it. */
async function released(holds: Hold[], settle: () => void): Promise<number[]> {
  const order = follow(holds);
  settle();
  await new Promise((resolve) => setImmediate(resolve));
  return order;
}

test('a leased budget asks once while it waits, asks ahead before it is empty, and spends a grant without asking', async () => {
  const { leases, asks } = link();
  const budget = leases.hold('ip:10.0.0.1:down', RATE);
  const waits = [budget.take(1_000), budget.take(1_000)];
  assert.equal(asks.length, 1, 'one ask in flight, not one per chunk');
  assert.deepEqual(await released(waits, () => leases.granted(asks[0], LEASE)), [0, 1], 'the grant lets both takers go');
  assert.equal(asks.length, 1, 'a grant that leaves more than half a lease asks for nothing');
  assert.equal(budget.take(40_000), 0, 'leased bytes pass at once');
  assert.equal(asks.length, 2, 'under half a lease left: the next one is asked for before this one is spent');
});

test('takers in debt wait for the grants that cover them, however late, and go in the order they took', async () => {
  const { leases, asks } = link();
  const budget = leases.hold('total:down', RATE);
  // Three connections read a lease and a half before anything is granted: each waits its turn.
  const order = follow([budget.take(50_000), budget.take(50_000), budget.take(12_500)]);
  // However long the primary takes, no time passing lets a taker go: only a grant does.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(order, [], 'nobody goes before a grant');
  leases.granted(asks[0], LEASE);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [0], 'one lease covers the first taker only');
  assert.equal(asks.length, 2, 'the debt left asks for the next lease at once');
  leases.granted(asks[1], LEASE);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [0, 1, 2], 'the second lease covers the rest');
});

test('a budget cut off from the primary paces its debt by time: no taker waits for a grant that cannot come', async () => {
  let connected = true;
  const { leases, asks } = link(() => connected);
  const budget = leases.hold('total:up', RATE);
  const waiting = budget.take(50_000);
  connected = false;
  leases.granted(asks[0], 10_000);
  assert.deepEqual(await released([waiting], () => undefined), [0], 'the waiting taker goes once no ask can go out');
  const wait = budget.take(60_000);
  assert.equal(typeof wait, 'number');
  assert.ok((wait as number) >= 100, `the debt is waited at the rate: ${String(wait)} ms`);
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
