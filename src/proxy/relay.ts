import type { Socket } from 'node:net';
import { pacedPipe, type Pacer } from '../limits/bandwidth.js';
import { attachForwarding, isForwarding } from '../backends/read-forwarding.js';
import { unwatchIdle, watchIdle, type IdleWatched } from './idle-sweep.js';

/** How a relay ended: bytes each way and the first error, if any. */
export interface RelayResult {
  /** Bytes read from the client after the relay began. */
  bytesIn: number;
  /** Bytes written to the client after the relay began. */
  bytesOut: number;
  error?: string;
}

/** Where a relayed socket finds its relay: the listeners below are shared by every tunnel and get the socket as `this`. */
const RELAY = Symbol('relay');
type Relayed = Socket & { [RELAY]?: Relay };

/**
 * Pipes two sockets into each other with backpressure (one write per chunk, no copies), passes
 * half-closes through, destroys both on an error or after `idleMs` without traffic, and reports
 * once both are closed. With a pacer (a bandwidth limit applies) each direction goes at its pace.
 */
export function relay(client: Socket, upstream: Socket, idleMs: number, onEnd: (result: RelayResult) => void, pacer?: Pacer | null): void {
  new Relay(client, upstream, onEnd, pacer ?? null).start(idleMs);
}

/**
 * One tunnel's relay state. Tunnels are many and short: the listeners are module functions shared
 * by all of them (no closure or once() wrapper per tunnel), so a tunnel allocates this object only.
 */
class Relay implements IdleWatched {
  private readonly baseIn: number;
  private readonly baseOut: number;
  private open = 2;
  private error: string | undefined = undefined;
  private idleMs = 0;
  idleBytes = 0;
  idleMovedAt = 0;

  constructor(
    readonly client: Relayed,
    readonly upstream: Relayed,
    private readonly onEnd: (result: RelayResult) => void,
    private readonly pacer: Pacer | null,
  ) {
    this.baseIn = client.bytesRead;
    this.baseOut = client.bytesWritten;
  }

  start(idleMs: number): void {
    const { client, upstream, pacer } = this;
    client[RELAY] = this;
    upstream[RELAY] = this;
    client.on('error', onError);
    upstream.on('error', onError);
    // A side that is gone can take nothing more: the other one closes once what it was given is
    // flushed, rather than stalling on bytes still arriving (a TLS close_notify) with nowhere to go.
    // 'close' is emitted once per socket: on() spares once()'s wrapper.
    client.on('close', onClose);
    upstream.on('close', onClose);
    if (idleMs > 0) {
      this.idleMs = idleMs;
      watchIdle(this, idleMs);
    }
    if (pacer) pacedPipe(client, upstream, pacer.up);
    else {
      // What pipe() does, with three listeners instead of its eight.
      client.on('data', onClientData);
      upstream.on('drain', onUpstreamDrain);
      client.on('end', onClientEnd);
      client.resume();
    }
    if (isForwarding(upstream)) {
      upstream.on('end', onUpstreamEnd);
      attachForwarding(upstream, client, pacer?.down);
    } else {
      if (pacer) pacedPipe(upstream, client, pacer.down);
      else upstream.pipe(client);
      upstream.resume();
    }
  }

  /** Destroys both sides, keeping the first error's code as the reason. */
  fail(error?: Error & { code?: string }): void {
    if (error && this.error === undefined) this.error = error.code ?? error.message;
    this.client.destroy();
    this.upstream.destroy();
  }

  idle(): void {
    if (this.client.destroyed) return;
    if (this.error === undefined) this.error = 'idle-timeout';
    this.fail();
  }

  closed(side: Socket): void {
    closeAfterFlush(side === this.client ? this.upstream : this.client);
    if (--this.open > 0) return;
    if (this.idleMs > 0) unwatchIdle(this, this.idleMs);
    this.pacer?.release();
    const { client, baseIn, baseOut } = this;
    this.onEnd({ bytesIn: client.bytesRead - baseIn, bytesOut: client.bytesWritten - baseOut, error: this.error });
  }
}

function onError(this: Relayed, error: Error): void {
  this[RELAY]!.fail(error);
}

function onClose(this: Relayed): void {
  this[RELAY]!.closed(this);
}

function onClientData(this: Relayed, chunk: Buffer): void {
  if (!this[RELAY]!.upstream.write(chunk)) this.pause();
}

function onUpstreamDrain(this: Relayed): void {
  this[RELAY]!.client.resume();
}

function onClientEnd(this: Relayed): void {
  this[RELAY]!.upstream.end();
}

function onUpstreamEnd(this: Relayed): void {
  this[RELAY]!.client.end();
}

/** Ends a socket and destroys it as soon as its pending writes reached the kernel. */
function closeAfterFlush(socket: Socket): void {
  if (socket.destroyed) return;
  // Ending twice builds an ERR_STREAM_ALREADY_FINISHED (with its stack) only to drop it: a few percent of a short tunnel's CPU.
  if (!socket.writableEnded) socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', destroySocket);
}

function destroySocket(this: Socket): void {
  this.destroy();
}
