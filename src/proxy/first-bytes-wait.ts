import type { Socket } from 'node:net';
import { SlotMap } from './slot-collections.js';
import { SweepTimer } from './sweep-timer.js';
import { destroyOnError } from './tunnel-relay.js';

/** How many times per timeout the sweep looks: a silent connection is answered after between timeout and timeout × 11/10. */
const LOOKS_PER_TIMEOUT = 10;

type DataListener = (this: Socket, chunk: Buffer) => void;

/**
 * Fresh connections waiting for their first bytes, with one timer for all of them (running only
 * while some wait) instead of a socket timeout each. A connection that sends nothing within the
 * timeout goes to `timedOut`; one that half-closes or fails before sending anything is closed.
 */
export class FirstBytesWait {
  private readonly since = new SlotMap<Socket, number>();
  private readonly timer: SweepTimer;

  constructor(
    private readonly timeoutMs: number,
    private readonly timedOut: (socket: Socket) => void,
  ) {
    this.timer = new SweepTimer(Math.max(1, Math.floor(timeoutMs / LOOKS_PER_TIMEOUT)), () => this.sweep());
  }

  /** Waits for `socket`'s first bytes, which go to `data` (which calls done() first). */
  add(socket: Socket, data: DataListener): void {
    this.since.set(socket, Date.now());
    socket.on('data', data);
    // Half-closed or failed before a byte: nothing to answer.
    socket.on('end', destroyOnError);
    socket.on('error', destroyOnError);
    this.timer.ensure();
  }

  /** Stops waiting on `socket` (its first bytes came, or it is being closed). */
  done(socket: Socket, data: DataListener): void {
    this.since.delete(socket);
    socket.removeListener('data', data);
    socket.removeListener('end', destroyOnError);
    socket.removeListener('error', destroyOnError);
  }

  /** Closes every connection still waiting (the listeners are closing: nothing was asked of them). */
  closeAll(): void {
    for (const socket of this.since.keyList()) {
      this.since.delete(socket);
      socket.destroy();
    }
  }

  /** Answers the connections that waited the whole timeout; false when none waits. */
  private sweep(): boolean {
    if (this.since.size === 0) return false;
    const now = Date.now();
    for (const [socket, since] of this.since) {
      if (socket.destroyed) this.since.delete(socket);
      else if (now - since >= this.timeoutMs) {
        this.since.delete(socket);
        socket.removeAllListeners('data');
        socket.removeListener('end', destroyOnError);
        this.timedOut(socket);
      }
    }
    return true;
  }
}
