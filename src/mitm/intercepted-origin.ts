import type { TLSSocket } from 'node:tls';
import type { Identity } from '../auth/identity.js';
import type { TlsInfo } from '../protocol/connection-record.js';

const ORIGIN = Symbol('intercepted origin');

/** Where the decrypted requests of an intercepted tunnel go, and who opened the tunnel. */
export interface InterceptedOrigin {
  /** The decrypted connection itself (an HTTP/2 request's own socket is a view that forgets it once the stream closes). */
  socket: TLSSocket;
  host: string;
  port: number;
  /** The user the tunnel's CONNECT or SOCKS5 handshake authenticated (auth on). */
  identity: Identity | undefined;
  /** The TLS facts every request of the tunnel carries into its record. */
  tls: TlsInfo;
}

type Marked = object & { [ORIGIN]?: InterceptedOrigin };

/** Marks the client's decrypted socket with its origin. */
export function markIntercepted(socket: object, origin: InterceptedOrigin): void {
  (socket as Marked)[ORIGIN] = origin;
}

/** The origin of a request that came out of an intercepted tunnel (an HTTP/2 request's socket proxy reads through to the TLS socket). */
export function interceptedOrigin(socket: object | null | undefined): InterceptedOrigin | undefined {
  return socket ? (socket as Marked)[ORIGIN] : undefined;
}
