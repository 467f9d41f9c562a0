import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { WorkerSlots } from '../../../src/proxy/worker-slots.js';
import type { ToWorker } from '../../../src/proxy/worker-protocol.js';

/** A live worker that records what the primary tells it. */
const worker = (told: ToWorker[]): Worker => ({ isConnected: () => true, send: (message: ToWorker) => told.push(message) }) as unknown as Worker;

test('connections passed to a worker and not yet received count as open there: for the others\' count and for a crash\'s cut', () => {
  const slots = new WorkerSlots(2);
  const [toA, toB]: ToWorker[][] = [[], []];
  const [a, b] = [worker(toA), worker(toB)];
  slots.serve(slots.list[0], a);
  slots.serve(slots.list[1], b);
  slots.report(slots.list[0], a, 10, 0, []);
  slots.report(slots.list[1], b, 4, 0, []);
  slots.list[1].handed = 3;
  slots.tellElsewhere();
  assert.deepEqual(toA.at(-1), { type: 'elsewhere', active: 7, backends: [] }, 'b has 4 open and 3 on their way');
  assert.deepEqual(toB.at(-1), { type: 'elsewhere', active: 10, backends: [] });
  // b received one of the three (its report counts it among the open) and then died.
  slots.report(slots.list[1], b, 5, 1, []);
  assert.equal(slots.lost(slots.list[1], b), 7, '5 open and 2 still on their way are cut');
  assert.equal(slots.lost(slots.list[1], b), 0, 'a process the slot no longer has cuts nothing');
  slots.serve(slots.list[1], worker([]));
  assert.deepEqual([slots.list[1].handed, slots.list[1].received], [0, 0], 'a replacement starts with nothing on its way');
});

test('each worker hears what the others have in flight per backend, and only when that changed', () => {
  const slots = new WorkerSlots(3);
  const told: ToWorker[][] = [[], [], []];
  const workers = told.map((list) => worker(list));
  workers.forEach((w, i) => slots.serve(slots.list[i], w));
  slots.report(slots.list[0], workers[0], 3, 0, [['up', 2], ['direct', 1]]);
  slots.report(slots.list[1], workers[1], 1, 0, [['up', 1]]);
  slots.report(slots.list[2], workers[2], 0, 0, []);
  slots.tellElsewhere();
  assert.deepEqual(told[0].at(-1), { type: 'elsewhere', active: 1, backends: [['up', 1]] });
  assert.deepEqual(told[1].at(-1), { type: 'elsewhere', active: 3, backends: [['up', 2], ['direct', 1]] }, 'a backend at zero elsewhere is left out');
  assert.deepEqual(told[2].at(-1), { type: 'elsewhere', active: 4, backends: [['up', 3], ['direct', 1]] });
  const sent = told.map((list) => list.length);
  slots.tellElsewhere();
  assert.deepEqual(told.map((list) => list.length), sent, 'nothing changed: nothing sent');
  // The first worker's direct connection closed: the others hear it, the first does not (its view did not change).
  slots.report(slots.list[0], workers[0], 2, 0, [['up', 2]]);
  slots.tellElsewhere();
  assert.equal(told[0].length, sent[0]);
  assert.deepEqual(told[2].at(-1), { type: 'elsewhere', active: 3, backends: [['up', 3]] });
  // A worker that died counts for nothing per backend.
  slots.lost(slots.list[1], workers[1]);
  slots.tellElsewhere();
  assert.deepEqual(told[2].at(-1), { type: 'elsewhere', active: 2, backends: [['up', 2]] });
});
