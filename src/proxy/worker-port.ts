import type { PolicyState } from '../policy/policy-state.js';
import type { ConnectionLedger } from './connection-ledger.js';
import type { Listeners } from './listeners.js';
import type { BackendCounts } from './worker-protocol.js';

/** The parts of an engine its worker port works with. */
export interface WorkerPortParts {
  listening: Listeners;
  ledger: ConnectionLedger;
  policyState: PolicyState;
}

/**
 * What an engine worker process uses of its engine to take part in a cluster: the load reports
 * that let every worker count max_connections and max_connections_per_backend over all of them.
 */
export class WorkerPort {
  constructor(private readonly parts: WorkerPortParts) {}

  /** Open client connections now. */
  get active(): number {
    return this.parts.ledger.clients.size;
  }

  /** The load report: open client connections, and connections in flight per backend (while max_connections_per_backend applies). */
  load(): { active: number; backends: BackendCounts } {
    return { active: this.active, backends: [...this.parts.policyState.perBackend] };
  }

  /** Client connections the other engine processes had open at their last report (workers accepting on shared sockets). */
  setOpenElsewhere(count: number): void {
    this.parts.listening.openElsewhere = count;
  }

  /** Connections the other engine processes had in flight per backend at their last report. */
  setBackendsElsewhere(counts: BackendCounts): void {
    this.parts.policyState.backendsElsewhere = new Map(counts);
  }

  /** Calls `changed` whenever this process's connections per backend change (to report them). */
  watchBackends(changed: () => void): void {
    this.parts.policyState.backendsChanged = changed;
  }
}
