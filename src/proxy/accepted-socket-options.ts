import type { Server, Socket } from 'node:net';

/** TCP keepalive as `network.keepalive` sets it. */
export interface KeepaliveSetting {
  enabled: boolean;
  intervalMs: number;
}

/** The TCP handle behind a bound server: the same libuv calls a socket's setNoDelay and setKeepAlive make, returning 0 or an errno. */
interface TcpHandle {
  setNoDelay?(on: boolean): number;
  setKeepAlive?(on: boolean, delaySeconds: number): number;
}

/**
 * Sets TCP_NODELAY and TCP keepalive on a bound server's listening socket, for every socket it
 * accepts from now on to inherit (Linux copies both into each accepted socket): no setsockopt per
 * connection, where Node's own server options make five per socket with keepalive on, a few
 * percent of a short tunnel's CPU. False, setting nothing, where that cannot be relied on (another
 * system, no TCP socket at hand): the caller sets them on each socket (setSocketOptions).
 * Node does not know an accepted socket has them: its setNoDelay(false) or setKeepAlive(false) on
 * one would be skipped as changing nothing. Nothing here turns them off per socket.
 */
export function inheritSocketOptions(server: Server, keepalive: KeepaliveSetting): boolean {
  if (process.platform !== 'linux') return false;
  // Node keeps the listening socket's handle to itself; a server always has one once bound.
  const handle = (server as unknown as { _handle?: TcpHandle | null })._handle;
  if (typeof handle?.setNoDelay !== 'function' || typeof handle.setKeepAlive !== 'function') return false;
  return handle.setNoDelay(true) === 0 && handle.setKeepAlive(keepalive.enabled, Math.floor(keepalive.intervalMs / 1000)) === 0;
}

/** Sets TCP_NODELAY and TCP keepalive on one accepted socket (where it does not inherit them). */
export function setSocketOptions(socket: Socket, keepalive: KeepaliveSetting): void {
  socket.setNoDelay(true);
  socket.setKeepAlive(keepalive.enabled, keepalive.intervalMs);
}
