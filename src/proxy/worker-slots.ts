import type { Worker } from 'node:cluster';
import type { ToWorker } from './worker-protocol.js';

/** A worker slot's process and what the primary knows of its load. */
export interface Slot {
  worker: Worker | null;
  /** Connections passed to this slot's current process (from another worker, through the primary). */
  handed: number;
  /** Its last report: open connections, and passed connections it had received by then. */
  active: number;
  received: number;
  /** What this worker was last told the others have open (shared sockets). */
  elsewhere: number;
}

/**
 * The clustered engine's workers as the primary counts them: one slot per worker (a replacement
 * takes its predecessor's), with the connections each has open at its last report and those
 * passed to it and still on their way. It tells each worker what the others have open, so
 * max_connections and the balance of accepts count every worker.
 */
export class WorkerSlots {
  readonly list: Slot[];

  constructor(count: number) {
    this.list = Array.from({ length: count }, () => ({ worker: null, handed: 0, active: 0, received: 0, elsewhere: 0 }));
  }

  /** A slot's new process has started: from now on it gets connections and counts. */
  serve(slot: Slot, worker: Worker): void {
    Object.assign(slot, { worker, handed: 0, active: 0, received: 0, elsewhere: -1 });
  }

  /** A worker's report of its load (ignored from a process the slot no longer has). */
  report(slot: Slot, worker: Worker, active: number, received: number): void {
    if (slot.worker !== worker) return;
    slot.active = active;
    slot.received = received;
  }

  /** A worker exited: the client connections it cut, those passed to it and not yet received included (0 if it was not serving yet). */
  lost(slot: Slot, worker: Worker): number {
    if (slot.worker !== worker) return 0;
    const cut = slot.active + slot.handed - slot.received;
    Object.assign(slot, { worker: null, active: 0 });
    return cut;
  }

  /**
   * Tells each worker accepting on the shared sockets how many connections the others have open,
   * so max_connections counts all of them: exact but for what the others admitted since their
   * last report (at most 20 ms old; 200 ms while more than 4,096 connections are still free under
   * max_connections), that is within one burst.
   */
  tellElsewhere(): void {
    // With the connections handed to each (passed from another worker) and not yet received: they are about to be open there.
    const open = (s: Slot): number => (s.worker ? s.active + s.handed - s.received : 0);
    const total = this.list.reduce((n, s) => n + open(s), 0);
    for (const slot of this.list) {
      if (!slot.worker?.isConnected()) continue;
      const active = total - open(slot);
      if (active === slot.elsewhere) continue;
      slot.elsewhere = active;
      slot.worker.send({ type: 'elsewhere', active } satisfies ToWorker);
    }
  }

  /** Workers that have started (one being started or replaced answers nothing yet). */
  serving(): Worker[] {
    return this.list.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  }
}
