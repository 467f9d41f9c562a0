import type { Worker } from 'node:cluster';
import { SlotPool } from '../policy/slot-pool.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** What the primary's slot pool uses of the clustered engine. */
export interface ClusterSlotsParts {
  workers(): Iterable<Worker>;
  /** Asks a worker and resolves with its reply. */
  reclaim(worker: Worker, address: string): Promise<unknown>;
  /** Sends unless the worker is gone. */
  tell(worker: Worker, message: ToWorker): void;
  /** max_connections_per_ip in force now. */
  cap(): number;
}

/** The primary's side of max_connections_per_ip leases (see SlotPool), spoken over the worker channel. */
export class ClusterSlots {
  private readonly pool: SlotPool<Worker>;

  constructor(processes: number, parts: ClusterSlotsParts) {
    this.pool = new SlotPool(processes, {
      workers: parts.workers,
      reclaim: (worker, address) => parts.reclaim(worker, address).then(Number, () => 0),
      grant: (worker, address, held) => parts.tell(worker, { type: 'slots-grant', address, held }),
      unpin: (address) => {
        for (const worker of parts.workers()) parts.tell(worker, { type: 'slots-unpin', address });
      },
      cap: parts.cap,
    });
  }

  /** Takes a worker's slot message; false for any other message. */
  handle(message: FromWorker, worker: Worker): boolean {
    if (message.type === 'slots-ask') this.pool.ask(worker, message.address, message.open, message.want);
    else if (message.type === 'slots-release') this.pool.release(worker, message.address);
    else return false;
    return true;
  }

  /** A worker exited: its slots are free again. */
  lost(worker: Worker): void {
    this.pool.lost(worker);
  }

  /** Clients counted over the workers now (a new worker is told them before it serves). */
  pinned(): string[] {
    return this.pool.pinned();
  }
}
