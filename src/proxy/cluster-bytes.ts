import type { Worker } from 'node:cluster';
import { ByteBudgets } from '../limits/byte-budgets.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** The primary's side of the bandwidth leases (see ByteBudgets), spoken over the worker channel. */
export class ClusterBytes {
  private readonly budgets = new ByteBudgets();

  constructor(private readonly tell: (worker: Worker, message: ToWorker) => void) {}

  /** Takes a worker's bandwidth message; false for any other message. */
  handle(message: FromWorker, worker: Worker): boolean {
    if (message.type === 'bytes-ask') {
      const { id, bytes } = message;
      this.budgets.ask(message.key, message.rate, bytes, () => this.tell(worker, { type: 'bytes-grant', id, bytes }));
    } else if (message.type === 'bytes-return') this.budgets.giveBack(message.key, message.rate, message.bytes);
    else return false;
    return true;
  }
}
