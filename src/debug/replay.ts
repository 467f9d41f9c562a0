import { createHash } from 'node:crypto';
import { ProxyError } from '../errors.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { isMasked } from './header-mask.js';

/** Methods that may be sent twice with the effect of once (RFC 9110 section 9.2.2); others need --force. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** A recorded request made ready to send again. */
export interface ReplayPlan {
  method: string;
  scheme: 'http:' | 'https:';
  host: string;
  port: number;
  path: string;
  /** Flat name/value list as recorded, without the masked ones (the sender drops hop-by-hop fields). */
  headers: string[];
  body: string | null;
  bodyEncoding: 'utf8' | 'base64';
  /** Header names left out because the debugger kept them masked. */
  masked: string[];
}

/** One side of the comparison: how an exchange went. */
export interface ReplayOutcome {
  backend: string | null;
  status: number | null;
  durationMs: number | null;
  /** Response body bytes. */
  size: number | null;
  /** SHA-256 of the response body, when all of it is known. */
  sha256: string | null;
  error?: string;
}

/** What `debug replay` answers: the recorded exchange and the replayed one side by side. */
export interface ReplayReport {
  id: string;
  method: string;
  url: string;
  original: ReplayOutcome;
  replay: ReplayOutcome;
  /** Header names that were masked in the record and so not sent again. */
  masked: string[];
}

/**
 * Turns a recorded plain or decrypted request into a replay plan, refusing what cannot be sent
 * again faithfully: a tunnel (its bytes were never seen), a method that is not idempotent
 * without `force`, a body that was not kept whole.
 */
export function replayPlan(record: ConnectionRecord, force: boolean): ReplayPlan {
  if (record.protocol !== 'http') throw new ProxyError('REPLAY_UNSUPPORTED', `record ${record.id} is a ${record.protocol === 'upgrade' ? 'WebSocket upgrade' : 'tunnel'}: only HTTP requests (plain or decrypted by debug.mitm) can be replayed`);
  const method = record.method.toUpperCase();
  if (!IDEMPOTENT.has(method) && !force) throw new ProxyError('REPLAY_NEEDS_FORCE', `${method} is not idempotent: sending it again may act twice; pass --force to replay it anyway`);
  const raw = record.requestHeaders ?? [];
  const masked: string[] = [];
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (isMasked(raw[i + 1])) masked.push(raw[i].toLowerCase());
    else kept.push(raw[i], raw[i + 1]);
  }
  const length = Number(header(raw, 'content-length') ?? 0);
  const hasBody = length > 0 || header(raw, 'transfer-encoding') !== undefined;
  const body = record.requestBody;
  if (hasBody && (!body || body.truncated)) {
    throw new ProxyError('REPLAY_UNSUPPORTED', `the request body of ${record.id} was not kept whole (debug.log_body and debug.max_body_log_size decide what is kept): it cannot be replayed`);
  }
  const scheme = record.tls?.decrypted || record.port === 443 ? 'https:' : 'http:';
  return { method, scheme, host: record.host, port: record.port, path: record.path ?? '/', headers: kept, body: hasBody && body ? body.text : null, bodyEncoding: body?.encoding ?? 'utf8', masked };
}

/** The recorded exchange as the left side of the comparison. */
export function recordedOutcome(record: ConnectionRecord): ReplayOutcome {
  const body = record.responseBody;
  const sha256 = body && !body.truncated ? createHash('sha256').update(Buffer.from(body.text, body.encoding === 'base64' ? 'base64' : 'utf8')).digest('hex') : null;
  return { backend: record.backend ?? null, status: record.status ?? null, durationMs: record.durationMs ?? null, size: body?.size ?? null, sha256, ...(record.error ? { error: record.error } : {}) };
}

function header(list: string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i].toLowerCase() === name) return list[i + 1];
  return undefined;
}
