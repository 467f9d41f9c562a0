import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/**
 * Starts TLS on a connected socket (`options.socket`) and settles once the handshake is over,
 * within `timeoutMs`; a failure is told as `timedOut()` or `failed(error)` words it, and the
 * socket is destroyed.
 */
export function tlsHandshake(options: ConnectionOptions, timeoutMs: number, timedOut: () => Error, failed: (error: Error) => Error): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ ALPNProtocols: ['http/1.1'], ...options });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(timedOut());
    }, timeoutMs);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('error', (error) => {
      clearTimeout(timer);
      secure.destroy();
      reject(failed(error));
    });
  });
}
