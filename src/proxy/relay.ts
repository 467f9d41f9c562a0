import type { Socket } from 'node:net';
import { pacedPipe, type Pacer } from '../limits/bandwidth.js';
import { attachForwarding, isForwarding } from '../backends/read-forwarding.js';

/** How a relay ended: bytes each way and the first error, if any. */
export interface RelayResult {
  /** Bytes read from the client after the relay began. */
  bytesIn: number;
  /** Bytes written to the client after the relay began. */
  bytesOut: number;
  error?: string;
}

/**
 * Pipes two sockets into each other with backpressure (one write per chunk, no copies), passes
 * half-closes through, destroys both on an error or after `idleMs` without traffic, and reports
 * once both are closed. With a pacer (a bandwidth limit applies) each direction goes at its pace.
 */
export function relay(client: Socket, upstream: Socket, idleMs: number, onEnd: (result: RelayResult) => void, pacer?: Pacer | null): void {
  const baseIn = client.bytesRead;
  const baseOut = client.bytesWritten;
  let open = 2;
  let error: string | undefined;
  const fail = (err?: Error & { code?: string }): void => {
    if (err && error === undefined) error = err.code ?? err.message;
    client.destroy();
    upstream.destroy();
  };
  const closed = (): void => {
    if (--open > 0) return;
    pacer?.release();
    onEnd({ bytesIn: client.bytesRead - baseIn, bytesOut: client.bytesWritten - baseOut, error });
  };
  client.on('error', fail);
  upstream.on('error', fail);
  // A side that is gone can take nothing more: the other one closes once what it was given is
  // flushed, rather than stalling on bytes still arriving (a TLS close_notify) with nowhere to go.
  client.once('close', () => {
    closeAfterFlush(upstream);
    closed();
  });
  upstream.once('close', () => {
    closeAfterFlush(client);
    closed();
  });
  if (idleMs > 0) {
    client.setTimeout(idleMs);
    client.once('timeout', () => {
      if (error === undefined) error = 'idle-timeout';
      fail();
    });
  }
  if (pacer) pacedPipe(client, upstream, pacer.up);
  else {
    // What pipe() does, with three listeners instead of its eight: tunnels are many and short.
    client.on('data', (chunk: Buffer) => {
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    client.once('end', () => upstream.end());
    client.resume();
  }
  if (isForwarding(upstream)) {
    upstream.once('end', () => client.end());
    attachForwarding(upstream, client, pacer?.down);
  } else {
    if (pacer) pacedPipe(upstream, client, pacer.down);
    else upstream.pipe(client);
    upstream.resume();
  }
}

/** Ends a socket and destroys it as soon as its pending writes reached the kernel. */
function closeAfterFlush(socket: Socket): void {
  if (socket.destroyed) return;
  // Ending twice builds an ERR_STREAM_ALREADY_FINISHED (with its stack) only to drop it: a few percent of a short tunnel's CPU.
  if (!socket.writableEnded) socket.end();
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}
