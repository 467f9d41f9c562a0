import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerSpec } from '../config/model.js';
import type { BoundListener } from '../engine/engine-api.js';
import { closeServer, listen } from './listen.js';

/**
 * Which of `count` engine processes serves a client address (FNV-1a of the address): every
 * connection of one client goes to the same process, so its per-client limits are counted in one
 * place. IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
 */
export function clientSlot(address: string, count: number): number {
  const key = address.startsWith('::ffff:') ? address.slice(7) : address;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}

/**
 * The listening sockets of a clustered engine, owned by the primary: each accepted connection is
 * handed, unread, to `hand` with the index of the listener it came in on.
 */
export class ClientDispatch {
  private readonly servers: Server[] = [];

  constructor(
    private readonly hand: (listener: number, socket: Socket) => void,
    private readonly acceptError: (error: NodeJS.ErrnoException) => void,
  ) {}

  /** Binds every listener; rejects (and binds none) if any cannot be bound. */
  async bind(specs: ListenerSpec[]): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    try {
      for (const [index, spec] of specs.entries()) {
        // Paused: the engine process that gets the socket is the first to read from it.
        const server = createServer({ pauseOnConnect: true }, (socket) => this.hand(index, socket));
        this.servers.push(server);
        bound.push(await listen(server, spec));
        // After listen, an error is a failed accept (out of descriptors): reported, never fatal.
        server.on('error', (error: NodeJS.ErrnoException) => this.acceptError(error));
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    return bound;
  }

  /** Stops accepting. */
  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map(closeServer));
  }
}
