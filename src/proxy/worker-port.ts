import type { Socket } from 'node:net';
import { balanceAccepts, type BalanceParts } from './accept-balance.js';
import type { ConfigSnapshot } from '../config/model.js';
import type { BoundListener } from '../engine/engine-api.js';
import type { ConnectionLedger } from './connection-ledger.js';
import type { Listeners } from './listeners.js';

/** The parts of an engine its worker port works with. */
export interface WorkerPortParts {
  listening: Listeners;
  ledger: ConnectionLedger;
  config(): ConfigSnapshot;
  draining(): boolean;
  /** Listeners another process binds are served from now on. */
  adopted(bound: BoundListener[]): void;
}

/**
 * What an engine worker process uses of its engine to take part in a cluster: listeners the
 * primary binds, connections it hands over, and the load reports that let every worker count
 * max_connections over all of them.
 */
export class WorkerPort {
  constructor(private readonly parts: WorkerPortParts) {}

  /** Serves listeners another process binds (`bound` in config order) without binding them: their connections arrive through accept(). */
  adopt(bound: BoundListener[]): BoundListener[] {
    this.parts.listening.adopt(this.parts.config(), bound);
    this.parts.adopted(bound);
    return bound;
  }

  /** Serves a connection accepted elsewhere on adopted listener `index`; `overLimit` refuses it as over max_connections. */
  accept(index: number, socket: Socket, overLimit: boolean): void {
    if (this.parts.draining()) return void socket.destroy();
    this.parts.listening.accept(index, socket, overLimit, this.parts.config());
  }

  /** Balances this worker's own accepts on the shared sockets with the other workers' (see balanceAccepts). */
  balance(parts: Omit<BalanceParts, 'mine'>): void {
    balanceAccepts(this.parts.listening.servers(), { ...parts, mine: () => this.active });
  }

  /** Open client connections now. */
  get active(): number {
    return this.parts.ledger.clients.size;
  }

  /** The load report: open client connections, and connections received through accept() so far. */
  load(): { active: number; received: number } {
    return { active: this.active, received: this.parts.listening.received };
  }

  /** Client connections the other engine processes had open at their last report (workers accepting on shared sockets). */
  setOpenElsewhere(count: number): void {
    this.parts.listening.openElsewhere = count;
  }
}
