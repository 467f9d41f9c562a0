import type { Socket } from 'node:net';
import { DialError } from '../errors.js';
import type { Credentials } from '../config/model.js';
import type { Target } from './backend.js';
import { interceptReads, isForwarding } from './read-forwarding.js';

const MAX_RESPONSE_HEAD = 16 * 1024;

/** `host:port` as an HTTP authority (IPv6 literals in brackets). */
export function authority(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** The value of a `Proxy-Authorization: Basic …` header for these credentials. */
export function basicAuth(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** The cause of a DialError for a CONNECT the upstream answered with an error status: the upstream itself works. */
export class UpstreamAnswer extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

/** The DialError for an upstream that refused our credentials (or wanted some): 407 Proxy Authentication Required. */
export function upstreamAuthError(upstream: string): DialError {
  return new DialError('upstream-auth', `upstream ${upstream}: proxy authentication required (407)`, new UpstreamAnswer(407));
}

/**
 * Asks an HTTP proxy on `socket` to open a tunnel (`CONNECT`) to the target. Resolves with the
 * same socket once the proxy answered 2xx; bytes that arrived after the answer are put back.
 */
export function httpConnect(socket: Socket, target: Target, credentials: Credentials | undefined, upstream: string, timeoutMs: number): Promise<Socket> {
  const hostPort = authority(target);
  let head = `CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n`;
  if (credentials) head += `Proxy-Authorization: ${basicAuth(credentials)}\r\n`;
  head += '\r\n';
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let rest: Buffer = Buffer.alloc(0);
    const forwarding = isForwarding(socket);
    let release: ((rest: Buffer) => void) | null = null;
    const done = (error: DialError | null): void => {
      clearTimeout(timer);
      if (release) release(rest);
      else socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (received.length > MAX_RESPONSE_HEAD) done(new DialError('upstream', `upstream ${upstream}: CONNECT answer too long`));
        return;
      }
      const statusLine = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})\s*(.*)$/.exec(statusLine);
      if (!match) return done(new DialError('upstream', `upstream ${upstream}: not an HTTP answer to CONNECT`));
      const status = Number(match[1]);
      if (status === 407) return done(upstreamAuthError(upstream));
      if (status < 200 || status > 299) {
        return done(new DialError('upstream', `upstream ${upstream}: refused CONNECT to ${hostPort} with ${status} ${match[2]}`.trim(), new UpstreamAnswer(status)));
      }
      rest = received.subarray(end + 4);
      if (!forwarding) {
        socket.pause();
        if (rest.length > 0) socket.unshift(rest);
      }
      done(null);
    };
    const onError = (error: Error): void => done(new DialError('upstream', `upstream ${upstream}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, error));
    const onClose = (): void => done(new DialError('upstream', `upstream ${upstream}: closed during CONNECT`));
    const timer = setTimeout(() => done(new DialError('timeout', `upstream ${upstream}: no answer to CONNECT within ${timeoutMs} ms`)), timeoutMs);
    if (forwarding) release = interceptReads(socket, onData);
    else socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(head);
  });
}
