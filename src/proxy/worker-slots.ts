import type { Worker } from 'node:cluster';
import type { BackendCounts, ToWorker } from './worker-protocol.js';

/** A worker slot's process and what the primary knows of its load. */
export interface Slot {
  worker: Worker | null;
  /** Connections passed to this slot's current process (from another worker, through the primary). */
  handed: number;
  /** Its last report: open connections, and passed connections it had received by then. */
  active: number;
  received: number;
  /** Its connections in flight per backend at its last report. */
  backends: BackendCounts;
  /** What this worker was last told the others have open (shared sockets). */
  elsewhere: number;
  /** What it was last told of the others' connections per backend, as sent (to send only changes). */
  backendsElsewhere: string;
}

/** A slot's client connections now: open at its last report, plus those passed to it that it had not received by then (0 without a live process). */
export function openOn(slot: Slot): number {
  return slot.worker ? slot.active + slot.handed - slot.received : 0;
}

/**
 * The clustered engine's workers as the primary counts them: one slot per worker (a replacement
 * takes its predecessor's), with the connections each has open at its last report and those
 * passed to it and still on their way. It tells each worker what the others have open, in all and
 * per backend, so max_connections, max_connections_per_backend and the balance of accepts count
 * every worker.
 */
export class WorkerSlots {
  readonly list: Slot[];

  constructor(count: number) {
    this.list = Array.from({ length: count }, () => ({ worker: null, handed: 0, active: 0, received: 0, backends: [], elsewhere: 0, backendsElsewhere: '' }));
  }

  /** A slot's new process has started: from now on it gets connections and counts. */
  serve(slot: Slot, worker: Worker): void {
    Object.assign(slot, { worker, handed: 0, active: 0, received: 0, backends: [], elsewhere: -1, backendsElsewhere: '' });
  }

  /** A worker's report of its load (ignored from a process the slot no longer has). */
  report(slot: Slot, worker: Worker, active: number, received: number, backends: BackendCounts): void {
    if (slot.worker !== worker) return;
    slot.active = active;
    slot.received = received;
    slot.backends = backends;
  }

  /** A worker exited: the client connections it cut, those passed to it and not yet received included (0 if it was not serving yet). */
  lost(slot: Slot, worker: Worker): number {
    if (slot.worker !== worker) return 0;
    const cut = openOn(slot);
    Object.assign(slot, { worker: null, active: 0, backends: [] });
    return cut;
  }

  /**
   * Tells each worker how many connections the others have open, in all and per backend, so
   * max_connections and max_connections_per_backend count all of them: exact but for what the
   * others admitted since their last report (at most 20 ms old; 200 ms while more than 4,096
   * connections are still free under max_connections and more than 4,096 under
   * max_connections_per_backend for every backend counted), that is within one burst. Only what changed for a worker is sent to it.
   */
  tellElsewhere(): void {
    // With the connections handed to each (passed from another worker) and not yet received: they are about to be open there.
    const total = this.list.reduce((n, s) => n + openOn(s), 0);
    const perBackend = new Map<string, number>();
    for (const slot of this.list) for (const [backend, count] of slot.backends) perBackend.set(backend, (perBackend.get(backend) ?? 0) + count);
    for (const slot of this.list) {
      if (!slot.worker?.isConnected()) continue;
      const active = total - openOn(slot);
      const backends = othersPerBackend(perBackend, slot.backends);
      const sent = backends.length === 0 ? '' : JSON.stringify(backends);
      if (active === slot.elsewhere && sent === slot.backendsElsewhere) continue;
      slot.elsewhere = active;
      slot.backendsElsewhere = sent;
      slot.worker.send({ type: 'elsewhere', active, backends } satisfies ToWorker);
    }
  }

  /** Workers that have started (one being started or replaced answers nothing yet). */
  serving(): Worker[] {
    return this.list.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  }
}

/** The connections per backend of every worker but one (`own`), leaving out backends at zero. */
function othersPerBackend(all: ReadonlyMap<string, number>, own: BackendCounts): BackendCounts {
  const mine = new Map(own);
  const out: BackendCounts = [];
  for (const [backend, open] of all) {
    const others = open - (mine.get(backend) ?? 0);
    if (others > 0) out.push([backend, others]);
  }
  return out;
}
