import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerIpShare } from '../../../src/policy/per-ip-share.js';

test('a client is reported once it holds its share of the cap, then at every change until it is back to 0', () => {
  const local = new Map<string, number>();
  const share = new PerIpShare(2, local);
  const set = (open: number): void => {
    local.set('a', open);
    share.changed('a', open, 8);
  };
  set(3);
  assert.equal(share.take(), undefined, 'under its share (8 / 2) nothing is reported');
  set(4);
  assert.deepEqual(share.take(), [['a', 4]]);
  set(2);
  assert.deepEqual(share.take(), [['a', 2]], 'once reported, every change is');
  local.delete('a');
  share.changed('a', 0, 8);
  assert.deepEqual(share.take(), [['a', 0]]);
  set(1);
  assert.equal(share.take(), undefined, 'back under its share and at 0 before: quiet again');
});

test('what the others hold counts, and a client newly counted elsewhere gets its local count reported', () => {
  const local = new Map([['a', 1]]);
  const share = new PerIpShare(2, local);
  assert.equal(share.openElsewhere('a'), 0);
  share.apply([['a', 5]]);
  assert.equal(share.openElsewhere('a'), 5);
  assert.deepEqual(share.take(), [['a', 1]]);
  share.replace([]);
  assert.equal(share.openElsewhere('a'), 0, 'left out of a full update: nothing elsewhere');
});

test('more processes counting together lower each one’s share: clients past the new share are reported', () => {
  const local = new Map([['a', 3]]);
  const share = new PerIpShare(1, local);
  share.changed('a', 3, 8);
  assert.equal(share.take(), undefined);
  share.setProcesses(2);
  assert.equal(share.take(), undefined, '3 is under 8 / 2');
  share.setProcesses(4);
  assert.deepEqual(share.take(), [['a', 3]]);
});
