import type { ConnectionLedger } from './connection-ledger.js';
import type { Listeners } from './listeners.js';

/** The parts of an engine its worker port works with. */
export interface WorkerPortParts {
  listening: Listeners;
  ledger: ConnectionLedger;
}

/**
 * What an engine worker process uses of its engine to take part in a cluster: the load reports
 * that let every worker count max_connections over all of them.
 */
export class WorkerPort {
  constructor(private readonly parts: WorkerPortParts) {}

  /** Open client connections now. */
  get active(): number {
    return this.parts.ledger.clients.size;
  }

  /** The load report: open client connections. */
  load(): { active: number } {
    return { active: this.active };
  }

  /** Client connections the other engine processes had open at their last report (workers accepting on shared sockets). */
  setOpenElsewhere(count: number): void {
    this.parts.listening.openElsewhere = count;
  }
}
