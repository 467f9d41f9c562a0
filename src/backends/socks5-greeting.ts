import type { Socket } from 'node:net';
import { DialError } from '../errors.js';

const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NONE_ACCEPTABLE = 0xff;

/**
 * Sends a SOCKS5 server the method-selection greeting (RFC 1928 section 3), offering
 * username/password only when there are credentials, and waits for its choice: whether a SOCKS5
 * server answers, without logging in or asking for a target. Rejects with a DialError
 * ('upstream-auth' when it accepts none of the methods offered).
 */
export function socks5Greeting(socket: Socket, withCredentials: boolean, label: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (error?: DialError): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new DialError('timeout', `${label}: no SOCKS5 answer within ${timeoutMs} ms`)), timeoutMs);
    const onError = (error: Error): void => finish(new DialError('upstream', `${label}: ${error.message}`, error));
    const onClose = (): void => finish(new DialError('upstream', `${label}: closed during the SOCKS5 greeting`));
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const [version, method] = buffered;
      if (version !== 0x05) return finish(new DialError('upstream', `${label}: not a SOCKS5 server (version byte ${version})`));
      if (method === NO_AUTH || (method === USER_PASS && withCredentials)) return finish();
      const offered = withCredentials ? 'no authentication or username/password' : 'no authentication (the client config gives no credentials)';
      finish(new DialError('upstream-auth', `${label}: SOCKS5 authentication: the server accepts none of the offered methods (${method === NONE_ACCEPTABLE ? offered : `it chose method ${method}`})`));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(Buffer.from(withCredentials ? [0x05, 0x02, NO_AUTH, USER_PASS] : [0x05, 0x01, NO_AUTH]));
  });
}
