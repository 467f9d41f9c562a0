import type { Socket } from 'node:net';
import { ProxyError } from '../errors.js';
import { parseProxyHeader, type ProxyHeader } from './proxy-header.js';

/** A peer that must send a PROXY header sent none, a malformed one, or none in time. */
export class ProxyHeaderError extends ProxyError {
  constructor(message: string) {
    super('PROXY_HEADER', message);
  }
}

/**
 * Reads a PROXY header off a fresh socket, then hands the socket on with the bytes after the header
 * put back (`unshift`), so whichever front reads next sees the client's stream from its first byte.
 * Callback-shaped: no promise per connection. The socket is paused when `done` runs.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: (error: ProxyHeaderError | null, header: ProxyHeader | null) => void): void {
  let received: Buffer = Buffer.alloc(0);
  const finish = (error: ProxyHeaderError | null, header: ProxyHeader | null, rest?: Buffer): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onEnd);
    socket.pause();
    if (rest && rest.length > 0) socket.unshift(rest);
    done(error, header);
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const parsed = parseProxyHeader(received);
    if (parsed.state === 'more') return;
    if (parsed.state === 'invalid') finish(new ProxyHeaderError(parsed.reason), null);
    else finish(null, parsed.header, received.subarray(parsed.length));
  };
  const onEnd = (): void => finish(new ProxyHeaderError(received.length === 0 ? 'closed before a PROXY header' : 'closed inside a PROXY header'), null);
  const timer = setTimeout(() => finish(new ProxyHeaderError(`no complete PROXY header within ${timeoutMs} ms`), null), timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('error', onEnd);
}
