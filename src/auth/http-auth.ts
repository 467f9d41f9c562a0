import type { IncomingMessage } from 'node:http';
import type { ConnectionRecord } from '../proxy/connection-record.js';
import type { AuthRefusal, AuthService } from './auth-service.js';
import type { Identity } from './identity.js';
import { interceptedOrigin } from '../mitm/intercepted-origin.js';

/**
 * Authenticates an HTTP proxy request (plain, CONNECT or upgrade) when auth is on: on success
 * the record carries the user and `next` gets the identity; otherwise `refuse` answers (407 with
 * `Proxy-Authenticate`, 429 while the address is throttled, 503 when the provider is down).
 * With auth off, `next` runs at once with no identity. A request decrypted out of an intercepted
 * tunnel carries no Proxy-Authorization: it is the user who opened the tunnel.
 */
export function authenticateHttp(
  auth: AuthService | null,
  req: IncomingMessage,
  record: ConnectionRecord,
  refuse: (refusal: AuthRefusal) => void,
  next: (identity: Identity | undefined) => void,
): void {
  if (auth === null) return next(undefined);
  const tunnelUser = interceptedOrigin(req.socket)?.identity;
  if (tunnelUser !== undefined) {
    record.user = tunnelUser.user;
    return next(tunnelUser);
  }
  auth.checkHttp(req.headers['proxy-authorization'], record.clientAddress, (outcome) => {
    if (!outcome.ok) return refuse(outcome.refusal);
    record.user = outcome.identity.user;
    next(outcome.identity);
  });
}

/** The target as limit hits name it. */
export function targetText(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
