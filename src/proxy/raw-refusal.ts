import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthRefusal } from '../auth/auth-service.js';
import type { Denial } from '../policy/denial.js';
import type { ConnectionRecord } from './connection-record.js';
import type { ProxyContext } from './proxy-context.js';
import { dialRefusal, rawHttpError } from './refusals.js';
import { endIfClientGone } from './tunnel-relay.js';

/** Refuses a request made on a raw client socket (CONNECT, upgrade) with an HTTP error. */
export type RawRefuse = (status: number, statusText: string, reason: string, error: string, proxyStatus?: string, headers?: Record<string, string | number>) => void;

/**
 * The refuser of one raw-socket request: records the answer, sends it and closes, and ends the
 * record once the client is gone (at once when it already is).
 */
export function rawRefuser(ctx: ProxyContext, record: ConnectionRecord, client: Socket): RawRefuse {
  return (status, statusText, reason, error, proxyStatus, headers) => {
    record.status = status;
    record.error = error;
    if (client.destroyed) return ctx.end(record);
    client.once('close', () => ctx.end(record));
    client.on('error', () => client.destroy());
    client.end(rawHttpError(status, statusText, reason, proxyStatus, headers));
  };
}

/** Refuses with a traffic-policy or ACL denial (rate limits say when to retry). */
export function refuseDenial(refuse: RawRefuse, denial: Denial): void {
  refuse(denial.status, denial.statusText, denial.reason, denial.error, denial.proxyStatus, denial.retryAfterS === undefined ? undefined : { 'Retry-After': denial.retryAfterS });
}

/** Refuses with an authentication verdict (407 and its challenge, or 429 / 503). */
export function refuseAuth(refuse: RawRefuse, refusal: AuthRefusal): void {
  refuse(refusal.status, refusal.statusText, refusal.reason, refusal.error, undefined, refusal.headers);
}

/** Answers a failed dial through the backend (502, 504, 403), or only ends the record if the client already left. */
export function refuseDialFailure(ctx: ProxyContext, record: ConnectionRecord, client: Socket, refuse: RawRefuse, error: unknown): void {
  const refusal = dialRefusal(ctx, record, error);
  if (endIfClientGone(ctx, record, client, refusal.reason)) return;
  refuse(refusal.status, STATUS_CODES[refusal.status] ?? 'Bad Gateway', refusal.message, refusal.reason, refusal.proxyStatus);
}
