import type { Socket } from 'node:net';
import { balanceAccepts, type BalanceParts } from './accept-balance.js';
import type { PolicyState } from '../policy/policy-state.js';
import type { ConnectionLedger } from './connection-ledger.js';
import type { Listeners } from './listeners.js';
import type { BackendCounts } from './worker-protocol.js';

/** The parts of an engine its worker port works with. */
export interface WorkerPortParts {
  listening: Listeners;
  ledger: ConnectionLedger;
  policyState: PolicyState;
  draining(): boolean;
}

/**
 * What an engine worker process uses of its engine to take part in a cluster: the balance of its
 * accepts with the other workers', the connections they pass to it, and the load reports that let
 * every worker count max_connections and max_connections_per_backend over all of them.
 */
export class WorkerPort {
  /** Connections passed to this worker (through accept()) so far. */
  private received = 0;

  constructor(private readonly parts: WorkerPortParts) {}

  /** Serves a connection another worker passed, accepted there on listener `index`: it meets this worker's admission like one accepted here. */
  accept(index: number, socket: Socket): void {
    // Counted whatever becomes of it: the daemon counts it on its way until a report says received.
    this.received++;
    if (this.parts.draining()) return void socket.destroy();
    this.parts.listening.accept(index, socket);
  }

  /** Balances this worker's own accepts on the shared sockets with the other workers' (see balanceAccepts). */
  balance(parts: Omit<BalanceParts, 'mine'>): void {
    balanceAccepts(this.parts.listening.servers(), { ...parts, mine: () => this.active });
  }

  /** Open client connections now. */
  get active(): number {
    return this.parts.ledger.clients.size;
  }

  /** The load report: open client connections, connections passed to this worker that it has received so far, and connections in flight per backend (while max_connections_per_backend applies). */
  load(): { active: number; received: number; backends: BackendCounts } {
    return { active: this.active, received: this.received, backends: [...this.parts.policyState.perBackend] };
  }

  /** Client connections the other engine processes had open at their last report (workers accepting on shared sockets). */
  setOpenElsewhere(count: number): void {
    this.parts.listening.openElsewhere = count;
  }

  /** Connections the other engine processes had in flight per backend at their last report. */
  setBackendsElsewhere(counts: BackendCounts): void {
    this.parts.policyState.backendsElsewhere = new Map(counts);
  }

  /** Calls `changed` whenever this process's connections per backend change (to report them); `near`: close to max_connections_per_backend over every worker. */
  watchBackends(changed: (near: boolean) => void): void {
    this.parts.policyState.backendsChanged = changed;
  }
}
