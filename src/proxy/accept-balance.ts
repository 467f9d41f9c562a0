import type { Server, Socket } from 'node:net';

/** The least a worker may hold over its share before it passes new connections on. */
const MIN_MARGIN = 4;
/** How far over its share, as a part of the share, a worker may be before it passes new connections on. */
const MARGIN_OF_SHARE = 0.05;

/**
 * Whether an engine worker that holds `mine` client connections, while the others hold
 * `elsewhere` in all, should pass a new one on rather than serve it: when serving it would put
 * it over its share of all of them (1 of `processes`) by more than 5 % of the share (at least
 * four connections). Below that the kernel's spread stands, and nothing is passed.
 */
export function overShare(mine: number, elsewhere: number, processes: number): boolean {
  if (processes < 2) return false;
  const share = (mine + 1 + elsewhere) / processes;
  return mine + 1 > share + Math.max(MIN_MARGIN, share * MARGIN_OF_SHARE);
}

/**
 * Stops a socket's reading at the descriptor (a handle being passed must not read: what it read
 * here would be lost to the process that serves it). Node has no public call for this on a socket
 * that already reads; `pause()` only stops the stream, not the descriptor.
 */
export function holdUnread(socket: Socket): void {
  const handle = (socket as unknown as { _handle: { reading: boolean; readStop(): number } | null })._handle;
  if (!handle) return;
  // As Node's own pause of a socket reading into a fixed buffer does.
  handle.reading = false;
  handle.readStop();
}

/** What a worker balances its accepts with. */
export interface BalanceParts {
  /** The worker's open client connections now. */
  mine(): number;
  /** The other workers' open client connections, as the daemon last said. */
  elsewhere(): number;
  processes: number;
  /** Whether the daemon can take a connection now (not while this worker is cut off from it). */
  connected(): boolean;
  /** Hands a connection accepted on listener `index`, unread, to the daemon (which closes it if it cannot be served elsewhere); destroys `socket` once sent (it only counts it off the server then: the descriptor went with it). */
  pass(index: number, socket: Socket): void;
}

/**
 * Puts the balance ahead of each server's own 'connection' listeners (as they are when this is
 * called): a connection this worker accepted itself from the shared socket while over its share
 * goes to `parts.pass` before anything reads it or counts it (IP lists, limits, PROXY header,
 * TLS); every other runs the listeners at once. A connection another worker passed here (it did
 * not come from this server's accept) is always served: a passed connection moves at most once.
 * Until the daemon's next word on the others, what this worker passed counts with them: a burst
 * of accepts does not all go while the first pass is still on its way.
 */
export function balanceAccepts(servers: readonly Server[], parts: BalanceParts): void {
  let heard = -1;
  let passed = 0;
  const over = (): boolean => {
    const elsewhere = parts.elsewhere();
    if (elsewhere !== heard) [heard, passed] = [elsewhere, 0];
    return overShare(parts.mine(), elsewhere + passed, parts.processes);
  };
  servers.forEach((server, index) => {
    const accept = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      const accepted = socket as Socket & { server: Server | null };
      if (accepted.server === server && over() && parts.connected()) {
        holdUnread(socket);
        // Sent as a socket of no server: Node would otherwise have this server's close wait for the daemon to see it close, which the daemon never does (it hands it on).
        accepted.server = null;
        passed++;
        return parts.pass(index, socket);
      }
      for (const listener of accept) listener.call(server, socket);
    });
  });
}
