import type { Socket } from 'node:net';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { ProxyContext } from './proxy-context.js';
import { relay } from './relay.js';

/**
 * The 'error' listener a front puts on a client socket before its tunnel is up: destroys the
 * socket that emitted it. One function for every socket, so the listener, which stays on the
 * socket for the tunnel's life, holds nothing of the handshake that added it.
 */
export function destroyOnError(this: Socket): void {
  this.destroy();
}

/**
 * Ends the record when the client went away while its upstream was being dialed, closing the
 * upstream if one was opened; true when it did, so the caller answers nobody.
 */
export function endIfClientGone(ctx: Pick<ProxyContext, 'end'>, record: ConnectionRecord, client: Socket, reason: string, upstream?: Socket): boolean {
  if (!client.destroyed) return false;
  upstream?.destroy();
  record.error = reason;
  ctx.end(record);
  return true;
}

/**
 * Relays an established tunnel (CONNECT, SOCKS5, upgrade) until both sides close, paced when a
 * bandwidth limit applies, then completes and ends its record. `early` counts client bytes that
 * were read before the relay began and already forwarded.
 */
export function relayTunnel(ctx: ProxyContext, record: ConnectionRecord, client: Socket, upstream: Socket, idleMs: number, early = 0): void {
  // The same bases relay() counts from: what `connections list` reads while it runs is what the record gets at the end.
  ctx.meter(record, client, client.bytesRead - early, client.bytesWritten);
  relay(
    client,
    upstream,
    idleMs,
    (result) => {
      record.bytesIn = result.bytesIn + early;
      record.bytesOut = result.bytesOut;
      record.error = result.error;
      ctx.end(record);
    },
    ctx.policy().pacer(record.clientAddress),
  );
}
