import type { Socket } from 'node:net';
import { SocksReply } from './refusals.js';

const NO_AUTH = 0x00;
const NO_ACCEPTABLE = 0xff;
/** A greeting (at most 257 bytes) and a request (at most 262) fit in this; more is not SOCKS5. */
const MAX_BYTES = 600;

/**
 * Answers a SOCKS5 client refused by a connection limit the way RFC 1928 allows: the greeting is
 * answered ("no authentication" when offered, else "no acceptable methods") and the request gets
 * reply 0x02 (connection not allowed by ruleset), so the client sees why instead of a bare close.
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
      if (buffer.length < 2 || buffer.length < 2 + buffer[1]) return;
      const methods = buffer.subarray(2, 2 + buffer[1]);
      if (!methods.includes(NO_AUTH)) return finish(Buffer.from([0x05, NO_ACCEPTABLE]));
      socket.write(Buffer.from([0x05, NO_AUTH]));
      greeted = true;
      buffer = buffer.subarray(2 + buffer[1]);
    }
    if (requestComplete(buffer)) finish(Buffer.from([0x05, SocksReply.notAllowed, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
  };
  socket.on('data', onData);
}

/** Whether a whole SOCKS5 request (VER CMD RSV ATYP DST.ADDR DST.PORT) is in `buffer`. */
function requestComplete(buffer: Buffer): boolean {
  if (buffer.length < 5) return false;
  const address = buffer[3] === 0x01 ? 4 : buffer[3] === 0x04 ? 16 : buffer[3] === 0x03 ? 1 + buffer[4] : 0;
  // An unknown address type gets the refusal at once: there is nothing more worth waiting for.
  return address === 0 || buffer.length >= 4 + address + 2;
}
