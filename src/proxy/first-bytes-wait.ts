import type { Socket } from 'node:net';

/** How many times per timeout the sweep looks: a silent connection is answered after between timeout and timeout × 11/10. */
const LOOKS_PER_TIMEOUT = 10;

type DataListener = (this: Socket, chunk: Buffer) => void;

/**
 * Fresh connections waiting for their first bytes, with one timer for all of them (running only
 * while some wait) instead of a socket timeout each. A connection that sends nothing within the
 * timeout goes to `timedOut`; one that half-closes or fails before sending anything is closed.
 */
export class FirstBytesWait {
  private readonly since = new Map<Socket, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly timedOut: (socket: Socket) => void,
  ) {}

  /** Waits for `socket`'s first bytes, which go to `data` (which calls done() first). */
  add(socket: Socket, data: DataListener): void {
    this.since.set(socket, Date.now());
    socket.on('data', data);
    socket.on('end', closeSilent);
    socket.on('error', closeSilent);
    this.timer ??= setInterval(() => this.sweep(), Math.max(1, Math.floor(this.timeoutMs / LOOKS_PER_TIMEOUT))).unref();
  }

  /** Stops waiting on `socket` (its first bytes came, or it is being closed). */
  done(socket: Socket, data: DataListener): void {
    this.since.delete(socket);
    socket.removeListener('data', data);
    socket.removeListener('end', closeSilent);
    socket.removeListener('error', closeSilent);
  }

  /** Connections still waiting. */
  get size(): number {
    return this.since.size;
  }

  /** Closes every connection still waiting (the listeners are closing: nothing was asked of them). */
  closeAll(): void {
    for (const socket of this.since.keys()) socket.destroy();
    this.since.clear();
  }

  private sweep(): void {
    // The timer stops only here, once a whole look found nobody waiting: connections that come and go one at a time do not start a timer each.
    if (this.since.size === 0) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    const now = Date.now();
    for (const [socket, since] of this.since) {
      if (socket.destroyed) this.since.delete(socket);
      else if (now - since >= this.timeoutMs) {
        this.since.delete(socket);
        socket.removeAllListeners('data');
        socket.removeListener('end', closeSilent);
        this.timedOut(socket);
      }
    }
  }
}

/** A waiting connection that half-closed or failed before sending a byte: nothing to answer. */
function closeSilent(this: Socket): void {
  this.destroy();
}
