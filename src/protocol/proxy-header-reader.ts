import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyHeader } from './proxy-header.js';

/**
 * Reads a PROXY header off a fresh socket, then hands the socket on with the bytes after the header
 * put back (`unshift`), so whichever front reads next sees the client's stream from its first byte.
 * Callback-shaped: no promise per connection. The socket is paused when `done` runs; on a failure
 * (`reason` set: no header, a malformed one, or none in time) the caller closes it.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: (reason: string | null, header: ProxyHeader | null) => void): void {
  let received: Buffer = Buffer.alloc(0);
  const finish = (reason: string | null, header: ProxyHeader | null, rest?: Buffer): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onEnd);
    socket.pause();
    if (rest && rest.length > 0) socket.unshift(rest);
    done(reason, header);
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const parsed = parseProxyHeader(received);
    if (parsed.state === 'more') return;
    if (parsed.state === 'invalid') finish(parsed.reason, null);
    else finish(null, parsed.header, received.subarray(parsed.length));
  };
  const onEnd = (): void => finish(received.length === 0 ? 'closed before a PROXY header' : 'closed inside a PROXY header', null);
  const timer = setTimeout(() => finish(`no complete PROXY header within ${timeoutMs} ms`, null), timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('error', onEnd);
}
