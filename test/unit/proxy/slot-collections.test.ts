import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotMap, SlotSet } from '../../../src/proxy/slot-collections.js';

test('a slot map agrees with a Map over a long run of random sets and deletes', () => {
  const map = new SlotMap<{ n: number }, number>();
  const reference = new Map<{ n: number }, number>();
  const keys = Array.from({ length: 64 }, (_, n) => ({ n }));
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) {
    const key = keys[Math.floor(random() * keys.length)];
    if (random() < 0.5) {
      map.set(key, i);
      reference.set(key, i);
    } else {
      assert.equal(map.delete(key), reference.delete(key));
    }
    assert.equal(map.size, reference.size);
  }
  for (const key of keys) {
    assert.equal(map.has(key), reference.has(key));
    assert.equal(map.get(key), reference.get(key));
  }
  assert.deepEqual(new Map(map.entryList()), reference);
});

test('an object can be in several slot collections at once, and a deleted one is in none of its places', () => {
  const a = new SlotSet<object>();
  const b = new SlotSet<object>();
  const [x, y, z] = [{}, {}, {}];
  a.add(x).add(y).add(z);
  b.add(z).add(x);
  assert.equal(a.delete(x), true);
  assert.equal(a.delete(x), false, 'deleted once');
  assert.deepEqual([...a], [z, y], 'the last member took the deleted place');
  assert.equal(b.has(x), true, 'the other set keeps it');
  assert.deepEqual([...b], [z, x]);
  a.add(x);
  assert.equal(a.size, 3);
  assert.equal(a.has(x), true);
});

test('iterating a slot set goes over the members when it started, whatever is deleted meanwhile', () => {
  const set = new SlotSet<{ n: number }>();
  const members = Array.from({ length: 10 }, (_, n) => ({ n }));
  for (const member of members) set.add(member);
  const seen: number[] = [];
  for (const member of set) {
    seen.push(member.n);
    set.delete(member);
    if (member.n === 0) set.delete(members[9]);
  }
  assert.deepEqual(seen.sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(set.size, 0);
});
