import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { parseConnectHead, type ConnectHead } from '../protocol/connect-head.js';
import type { FirstBytesWait } from './first-bytes-wait.js';

/** What the CONNECT fast path of a listener needs. */
export interface ConnectFirstParts {
  /** Connections waiting for their first bytes, with the handshake timeout. */
  waiting: FirstBytesWait;
  /** The largest request head the listener takes now (`network.max_header_size`, which a reload may change). */
  maxHeaderSize(): number;
  /** Serves a parsed CONNECT: `socket` is paused, and `rest` holds what the client sent after the head. */
  connect(head: ConnectHead, socket: Socket, rest: Buffer): void;
}

type ConnectionListener = (this: HttpServer, socket: Socket) => void;

/**
 * Takes node:http's own 'connection' listener off a plain HTTP server (the one its constructor
 * added, so this runs right after the server is made) and returns it, for serveConnectFirst().
 */
export function takeHttpParser(server: HttpServer): ConnectionListener {
  const [parser] = server.listeners('connection') as ConnectionListener[];
  server.removeListener('connection', parser!);
  return parser!;
}

/**
 * Serves a connection whose first bytes are a complete CONNECT head in the strict form
 * (parseConnectHead) without node:http: no HTTP parser, request object or socket timeout is made
 * for a tunnel. Any other connection (a request with a body, a head split over several reads,
 * anything looser) is handed, with the bytes read so far put back, to `parser` (the server's own
 * listener taken by takeHttpParser()), which serves or refuses it exactly as it did before. Added
 * after the server's other 'connection' listeners: a connection they closed or refused (a 503
 * written) is not waited on.
 */
export function serveConnectFirst(server: HttpServer, parser: ConnectionListener, parts: ConnectFirstParts): void {
  const { waiting } = parts;
  const toParser = (socket: Socket, bytes?: Buffer): void => {
    if (bytes) socket.unshift(bytes);
    parser.call(server, socket);
    // Paused by the wait: node:http takes the bytes put back as its first data, then reads on.
    if (bytes) socket.resume();
  };
  // One listener for every connection (the socket is `this`): waiting allocates no closure.
  const first = function (this: Socket, chunk: Buffer): void {
    waiting.done(this, first);
    this.pause();
    const parsed = parseConnectHead(chunk, parts.maxHeaderSize());
    if (parsed === null) return toParser(this, chunk);
    parts.connect(parsed.head, this, chunk.subarray(parsed.length));
  };
  server.on('connection', (socket: Socket) => {
    if (socket.destroyed) return;
    if (socket.writableEnded) return toParser(socket);
    waiting.add(socket, first);
  });
}
