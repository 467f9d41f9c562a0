import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionRecord } from '../protocol/connection-record.js';

/** Methods Max-Forwards applies to (RFC 9110 section 7.6.2). */
const LIMITED = new Set(['TRACE', 'OPTIONS']);

/** Fields a TRACE echo leaves out: credentials and cookies are not reflected (RFC 9110 section 9.3.8). */
const NOT_ECHOED = new Set(['authorization', 'proxy-authorization', 'cookie', 'proxy-connection']);

/** What this proxy answers an OPTIONS addressed to it with. */
const ALLOW = 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT';

/** The Max-Forwards of a TRACE or OPTIONS request, or null for other methods or without a valid one. */
export function maxForwards(method: string, raw: readonly string[]): number | null {
  if (!LIMITED.has(method)) return null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 12 && raw[i].toLowerCase() === 'max-forwards') return /^\d{1,9}$/.test(raw[i + 1].trim()) ? Number(raw[i + 1].trim()) : null;
  }
  return null;
}

/** Lowers the Max-Forwards of an outgoing header list to `remaining`. */
export function setMaxForwards(headers: string[], remaining: number): void {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === 'max-forwards') headers[i + 1] = String(remaining);
}

/** Answers a TRACE or OPTIONS whose Max-Forwards is 0 as its final recipient: TRACE echoes the request, OPTIONS names the methods. */
export function answerAsRecipient(req: IncomingMessage, res: ServerResponse, record: ConnectionRecord, via: string): void {
  record.status = 200;
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { allow: ALLOW, 'content-length': 0, via });
    res.end();
    return;
  }
  let echo = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!NOT_ECHOED.has(raw[i].toLowerCase())) echo += `${raw[i]}: ${raw[i + 1]}\r\n`;
  const body = Buffer.from(`${echo}\r\n`, 'latin1');
  res.writeHead(200, { 'content-type': 'message/http', 'content-length': body.length, via });
  res.end(body);
}
