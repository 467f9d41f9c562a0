import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionRecord } from '../../protocol/connection-record.js';
import { rawHttpError } from '../../protocol/http-error.js';
import { REFUSALS, type Refusal } from '../../protocol/refusal.js';
import { encodeReply } from '../../protocol/socks5-codec.js';
import type { ProxyContext } from '../proxy-context.js';
import { endIfClientGone } from '../tunnel-relay.js';
import type { AdmissionRequest } from './admission-request.js';
import { dialRefusal } from './dial-refusal.js';

/*
 * How each front answers a refusal: the status, texts and codes come from the table in
 * protocol/refusal.ts; these only write them in the front's protocol and end the record.
 */

/** Answers on a raw client socket (CONNECT, upgrade) with an HTTP error and closes; ends the record once the client is gone. */
export function answerRaw(ctx: Pick<ProxyContext, 'end'>, record: ConnectionRecord, client: Socket, refused: Refusal): void {
  const answer = REFUSALS[refused.code];
  if (endsAt(ctx, record, client, answer.status, answer.logReason)) return;
  client.on('error', () => client.destroy());
  client.end(rawHttpError(answer.status, answer.statusText, refused.reason, answer.proxyStatus, refused.headers));
}

/** Answers a SOCKS5 request with its reply code and closes; ends the record once the client is gone. */
export function answerSocks(ctx: Pick<ProxyContext, 'end'>, record: ConnectionRecord, client: Socket, refused: Refusal): void {
  const answer = REFUSALS[refused.code];
  if (endsAt(ctx, record, client, answer.socks, answer.logReason)) return;
  client.end(encodeReply(answer.socks));
}

/** A refusal after success was already answered (the target's name was sniffed first): the record says why and the connection is closed. */
export function closeRefused(ctx: Pick<ProxyContext, 'end'>, record: ConnectionRecord, client: Socket, refused: Refusal): void {
  const answer = REFUSALS[refused.code];
  if (endsAt(ctx, record, client, record.protocol === 'socks5' ? answer.socks : answer.status, answer.logReason)) return;
  client.destroy();
}

/** Marks the record refused and ends it when the client closes; true (and ended now) when the client is already gone. */
function endsAt(ctx: Pick<ProxyContext, 'end'>, record: ConnectionRecord, client: Socket, status: number, logReason: string): boolean {
  record.status = status;
  record.error = logReason;
  if (client.destroyed) {
    ctx.end(record);
    return true;
  }
  client.once('close', () => ctx.end(record));
  return false;
}

/** Answers a forwarded HTTP request with a short plain-text error (the record ends when the response closes). */
export function answerResponse(res: ServerResponse, record: ConnectionRecord | null, refused: Refusal): void {
  const answer = REFUSALS[refused.code];
  if (record) {
    record.status = answer.status;
    record.error = answer.logReason;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${refused.reason}\n`;
  const headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) };
  if (answer.proxyStatus) headers['proxy-status'] = `simple-proxy; error=${answer.proxyStatus}`;
  if (refused.headers) for (const name in refused.headers) headers[name.toLowerCase()] = refused.headers[name];
  res.writeHead(answer.status, headers);
  res.end(body);
}

/** Answers a failed dial of an admitted request through its front (502, 504, 403, a SOCKS5 reply), or only ends the record if the client already left. */
export function refuseDialFailure(ctx: Pick<ProxyContext, 'end' | 'policy' | 'credentialsRefused' | 'outOfDescriptors'>, request: AdmissionRequest, client: Socket, error: unknown): void {
  const refused = dialRefusal(ctx, request.record, error);
  if (endIfClientGone(ctx, request.record, client, REFUSALS[refused.code].logReason)) return;
  request.refused(refused);
}
