import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { fewest } from '../../../src/proxy/balance-pool.js';
import type { Slot } from '../../../src/proxy/worker-slots.js';

const worker = (connected: boolean): Worker => ({ isConnected: () => connected }) as Worker;
const slot = (active: number, handed = 0, received = 0, connected = true): Slot => ({ worker: worker(connected), active, handed, received, backends: [], elsewhere: 0, backendsElsewhere: '' });

test('a passed connection goes to the live worker with the fewest, counting those handed to it and not yet received', () => {
  const [a, b, c] = [slot(40), slot(30, 12, 0), slot(35)];
  assert.equal(fewest([a, b, c]), c, 'b has 30 open and 12 on their way: 42');
  b.received = 12;
  assert.equal(fewest([a, b, c]), b, 'once b has received them it has 30');
  assert.equal(fewest([slot(1, 0, 0, false), a]), a, 'a dead or starting worker gets none');
  assert.equal(fewest([{ ...a, worker: null }]), undefined, 'no live worker: none (the connection is closed)');
  assert.equal(fewest([slot(5), slot(5)])?.active, 5);
});
