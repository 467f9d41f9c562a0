import type { Socket } from 'node:net';
import { REFUSALS } from '../protocol/refusal.js';
import { SocksMethod } from '../protocol/socks5-codes.js';
import { encodeReply, greetingLength, methodChoice, offersMethod, requestComplete } from '../protocol/socks5-codec.js';

/** A greeting (at most 257 bytes) and a request (at most 262) fit in this; more is not SOCKS5. */
const MAX_BYTES = 600;

/**
 * Answers a SOCKS5 client refused by a connection limit the way RFC 1928 allows: the greeting is
 * answered ("no authentication" when offered, else "no acceptable methods") and the request gets
 * the reply of the `connection-limit` refusal (0x02, connection not allowed by ruleset), so the
 * client sees why instead of a bare close.
 * No credentials are read and nothing is routed or dialed; a client that does not finish within
 * `timeoutMs` or sends more than a handshake's worth of bytes is dropped.
 */
export function refuseSocks5(socket: Socket, timeoutMs: number): void {
  let buffer: Buffer = Buffer.alloc(0);
  let greeted = false;
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  const finish = (answer: Buffer): void => {
    socket.removeListener('data', onData);
    // Whatever the client still sends is read and dropped until it closes (or the timeout fires).
    socket.on('data', () => undefined);
    socket.end(answer);
  };
  const onData = (chunk: Buffer): void => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    if (buffer.length > MAX_BYTES || buffer[0] !== 0x05) return void socket.destroy();
    if (!greeted) {
      const length = greetingLength(buffer);
      if (length === 0) return;
      if (!offersMethod(buffer, SocksMethod.none)) return finish(methodChoice(SocksMethod.noAcceptable));
      socket.write(methodChoice(SocksMethod.none));
      greeted = true;
      buffer = buffer.subarray(length);
    }
    if (requestComplete(buffer)) finish(encodeReply(REFUSALS['connection-limit'].socks));
  };
  socket.on('data', onData);
}
