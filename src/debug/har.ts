import { STATUS_CODES } from 'node:http';
import type { CapturedBody, ConnectionRecord, HeaderList } from '../protocol/connection-record.js';

/** A HAR 1.2 name/value pair. */
interface HarPair {
  name: string;
  value: string;
}

/** One HAR 1.2 entry, as far as a forward proxy knows it. */
export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarPair[];
    headers: HarPair[];
    queryString: HarPair[];
    postData?: { mimeType: string; text: string; comment?: string };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarPair[];
    headers: HarPair[];
    content: { size: number; mimeType: string; text?: string; encoding?: string; comment?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  comment?: string;
}

/** A HAR 1.2 document. */
export interface Har {
  log: { version: '1.2'; creator: { name: string; version: string }; entries: HarEntry[] };
}

const pairs = (headers: HeaderList | undefined): HarPair[] => {
  const out: HarPair[] = [];
  if (headers) for (let i = 0; i < headers.length; i += 2) out.push({ name: headers[i], value: headers[i + 1] });
  return out;
};

const header = (headers: HeaderList | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === name) return headers[i + 1];
  return undefined;
};

const cutNote = (body: CapturedBody): string | undefined => (body.truncated ? `first ${Buffer.byteLength(body.text, body.encoding === 'base64' ? 'base64' : 'utf8')} of ${body.size} bytes` : undefined);

/** The request URL: the absolute URL of a plain request, the tunnel's authority as a URL otherwise. */
function urlOf(record: ConnectionRecord): string {
  const host = record.host.includes(':') ? `[${record.host}]` : record.host;
  if (record.protocol === 'http' || record.protocol === 'upgrade') {
    const scheme = record.port === 443 ? 'https' : 'http';
    const port = record.port === 80 || record.port === 443 ? '' : `:${record.port}`;
    return `${scheme}://${host}${port}${record.path ?? '/'}`;
  }
  return `${record.port === 443 ? 'https' : 'http'}://${host}:${record.port}/`;
}

/** One record as a HAR entry: plain HTTP with what was captured, tunnels as metadata only. */
export function harEntry(record: ConnectionRecord): HarEntry {
  const url = urlOf(record);
  const tunnel = record.protocol === 'connect' || record.protocol === 'socks5';
  const requestBody = record.requestBody;
  const responseBody = record.responseBody;
  // A SOCKS5 reply code 0 means the tunnel was set up; HAR needs an HTTP status.
  const status = record.protocol === 'socks5' ? (record.status === 0 ? 200 : 502) : (record.status ?? 0);
  const notes = [tunnel ? `${record.protocol === 'socks5' ? 'SOCKS5' : 'CONNECT'} tunnel: metadata only` : null, record.backend ? `backend ${record.backend}` : null, record.error ? `error ${record.error}` : null];
  return {
    startedDateTime: new Date(record.startedAt).toISOString(),
    time: record.durationMs ?? 0,
    request: {
      method: record.method,
      url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: pairs(record.requestHeaders),
      queryString: [...new URL(url).searchParams].map(([name, value]) => ({ name, value })),
      ...(requestBody
        ? { postData: { mimeType: header(record.requestHeaders, 'content-type') ?? 'application/octet-stream', text: requestBody.encoding === 'utf8' ? requestBody.text : '', ...(cutNote(requestBody) ? { comment: cutNote(requestBody) } : {}) } }
        : {}),
      headersSize: -1,
      bodySize: tunnel ? -1 : record.bytesIn,
    },
    response: {
      status,
      statusText: STATUS_CODES[status] ?? '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: pairs(record.responseHeaders),
      content: {
        size: responseBody?.size ?? (tunnel ? 0 : record.bytesOut),
        mimeType: header(record.responseHeaders, 'content-type') ?? 'application/octet-stream',
        ...(responseBody ? { text: responseBody.text, ...(responseBody.encoding === 'base64' ? { encoding: 'base64' } : {}) } : {}),
        ...(responseBody && cutNote(responseBody) ? { comment: cutNote(responseBody) } : {}),
      },
      redirectURL: header(record.responseHeaders, 'location') ?? '',
      headersSize: -1,
      bodySize: tunnel ? -1 : record.bytesOut,
    },
    cache: {},
    // A proxy sees the exchange as a whole; the split into phases is not measured.
    timings: { send: 0, wait: record.durationMs ?? 0, receive: 0 },
    comment: notes.filter((n) => n !== null).join('; '),
  };
}

/** Records (any order) as a HAR 1.2 document, oldest first. */
export function toHar(records: ConnectionRecord[], version: string): Har {
  const entries = [...records].sort((a, b) => a.startedAt - b.startedAt).map(harEntry);
  return { log: { version: '1.2', creator: { name: 'simple-proxy', version }, entries } };
}
