import type { Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { holdUnread } from './accept-balance.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { openOn, type Slot, type WorkerSlots } from './worker-slots.js';

/** The serving worker with the fewest client connections (openOn). Ties go to the earliest slot. */
export function fewest(list: readonly Slot[]): Slot | undefined {
  let best: Slot | undefined;
  let least = Infinity;
  for (const slot of list) {
    if (!slot.worker?.isConnected()) continue;
    const open = openOn(slot);
    if (open < least) {
      least = open;
      best = slot;
    }
  }
  return best;
}

/**
 * The daemon's side of the balance over workers on the shared sockets (see balanceAccepts): a
 * connection `worker` (in `slot`) passes, unread, goes to the worker with the fewest connections
 * now (back to the sender when that is the sender), counted as handed to it until it reports
 * having received it. The pass carries the sender's load, so every worker hears at once what the
 * others have open. A connection no live worker can take, or whose hand-over fails (its worker
 * died meanwhile), is closed.
 */
export function relayPasses(worker: Worker, slot: Slot, slots: WorkerSlots): void {
  worker.on('message', (message: FromWorker, socket?: Socket) => {
    if (message.type !== 'pass') return;
    if (!socket) return;
    // This process must not read it either: what it read would be lost to the worker that serves it.
    holdUnread(socket);
    slots.report(slot, worker, message.active, message.received, message.backends);
    const target = fewest(slots.list);
    if (!target) return void socket.destroy();
    target.handed++;
    // Once sent, destroying it here closes nothing (the descriptor went with it); if the worker died meanwhile, it closes the connection.
    target.worker!.send({ type: 'connection', listener: message.listener } satisfies ToWorker, socket, undefined, () => socket.destroy());
    slots.tellElsewhere();
  });
}
