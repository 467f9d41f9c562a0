import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busiest, mergeBusiest } from '../../../src/policy/busiest-clients.js';

test('busiest: the n clients with most open connections, most first', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 1000; i++) counts.set(`10.0.${i >> 8}.${i & 255}`, i % 97);
  const top = busiest(counts, 3);
  assert.deepEqual(
    top.map((c) => c.active),
    [96, 96, 96],
  );
  assert.deepEqual(busiest(new Map([['a', 1], ['b', 3], ['c', 2]]), 5), [
    { client: 'b', active: 3 },
    { client: 'c', active: 2 },
    { client: 'a', active: 1 },
  ]);
  assert.deepEqual(busiest(new Map(), 5), []);
});

test('mergeBusiest: sums one client over engine processes before ranking', () => {
  const merged = mergeBusiest(
    [
      [{ client: 'a', active: 3 }, { client: 'b', active: 2 }],
      [{ client: 'b', active: 2 }, { client: 'c', active: 1 }],
    ],
    2,
  );
  assert.deepEqual(merged, [
    { client: 'b', active: 4 },
    { client: 'a', active: 3 },
  ]);
});
