import type { Socket } from 'node:net';
import { SlotSet } from './slot-collections.js';
import { SweepTimer } from './sweep-timer.js';

/** A tunnel the sweep watches: its client socket, what it saw there last, and what to do once the tunnel was quiet for its idle time. */
export interface IdleWatched {
  readonly client: Socket;
  /** Bytes the client socket had read and written at the last look. */
  idleBytes: number;
  /** When that count last moved (ms since the epoch, as of a sweep). */
  idleMovedAt: number;
  /** Called once the tunnel has been quiet for at least the idle time, unless its client socket was destroyed by then. */
  idle(): void;
}

/** Looks this many times per idle period: a quiet tunnel closes after between idleMs and idleMs × 9/8. */
const LOOKS_PER_PERIOD = 8;

/**
 * The idle timeouts of tunnels with one timer per idle period in use, not one per socket. A
 * socket timeout (`socket.setTimeout`) holds a timer and a bound function per socket and re-arms
 * the timer on every read and write; here nothing runs per chunk, and an idle tunnel costs a
 * place in a set: a tunnel counts as active when the bytes its client socket read or wrote moved
 * since the sweep looked last (the same traffic that re-armed the client's socket timeout).
 */
class IdleSweep {
  private readonly watched = new SlotSet<IdleWatched>();
  private readonly timer: SweepTimer;

  constructor(private readonly idleMs: number) {
    this.timer = new SweepTimer(Math.max(1, Math.floor(idleMs / LOOKS_PER_PERIOD)), () => this.sweep());
  }

  add(tunnel: IdleWatched): void {
    tunnel.idleBytes = movedBytes(tunnel.client);
    tunnel.idleMovedAt = Date.now();
    this.watched.add(tunnel);
    this.timer.ensure();
  }

  delete(tunnel: IdleWatched): void {
    this.watched.delete(tunnel);
  }

  /** Closes the tunnels quiet for the idle time, and lets go of those whose client is gone; false when none is watched. */
  private sweep(): boolean {
    if (this.watched.size === 0) return false;
    const now = Date.now();
    for (const tunnel of this.watched) {
      // Nothing is left to close (a relay's idle() does nothing then): a client that went away
      // during a SOCKS5 handshake, which has no 'close' listener to unwatch it, is let go at the next look.
      if (tunnel.client.destroyed) {
        this.watched.delete(tunnel);
        continue;
      }
      const bytes = movedBytes(tunnel.client);
      if (bytes !== tunnel.idleBytes) {
        tunnel.idleBytes = bytes;
        tunnel.idleMovedAt = now;
      } else if (now - tunnel.idleMovedAt >= this.idleMs) {
        this.watched.delete(tunnel);
        tunnel.idle();
      }
    }
    return true;
  }
}

function movedBytes(socket: Socket): number {
  return socket.bytesRead + (socket.bytesWritten ?? 0);
}

const sweeps = new Map<number, IdleSweep>();

/** Closes `tunnel` (calls its idle()) once it has been quiet for `idleMs`; unwatchIdle() when it ends first. */
export function watchIdle(tunnel: IdleWatched, idleMs: number): void {
  let sweep = sweeps.get(idleMs);
  if (sweep === undefined) sweeps.set(idleMs, (sweep = new IdleSweep(idleMs)));
  sweep.add(tunnel);
}

/** Stops watching a tunnel that ended. */
export function unwatchIdle(tunnel: IdleWatched, idleMs: number): void {
  sweeps.get(idleMs)?.delete(tunnel);
}
