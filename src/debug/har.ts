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
  timings: { dns: number; connect: number; ssl: number; send: number; wait: number; receive: number };
  comment?: string;
  /** A tunnel's metadata (custom HAR field): whether its bytes were decrypted, and what its TLS handshake named. */
  _tunnel?: { decrypted: boolean; sni?: string; alpnOffered?: string[]; alpn?: string; backend?: string; bytesIn: number; bytesOut: number };
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
    const scheme = record.tls?.decrypted || record.port === 443 ? 'https' : 'http';
    const port = (scheme === 'http' && record.port === 80) || (scheme === 'https' && record.port === 443) ? '' : `:${record.port}`;
    return `${scheme}://${host}${port}${record.path ?? '/'}`;
  }
  if (record.protocol === 'udp') return `udp://${host}:${record.port}/`;
  return `${record.port === 443 ? 'https' : 'http'}://${host}:${record.port}/`;
}

const TUNNEL_KIND: Partial<Record<ConnectionRecord['protocol'], string>> = { connect: 'CONNECT tunnel', socks5: 'SOCKS5 tunnel', udp: 'SOCKS5 UDP association' };

/** A UDP association's datagrams and destinations, for the entry's comment. */
function udpNote(record: ConnectionRecord): string | null {
  const udp = record.udp;
  if (!udp) return null;
  const more = udp.destinationCount > udp.destinations.length ? ` and ${udp.destinationCount - udp.destinations.length} more` : '';
  return `datagrams ${udp.datagramsIn} in, ${udp.datagramsOut} out, ${udp.dropped} dropped; destinations ${udp.destinations.join(' ')}${more}`;
}

/** One record as a HAR entry: plain HTTP with what was captured, tunnels as metadata only. */
export function harEntry(record: ConnectionRecord): HarEntry {
  const url = urlOf(record);
  const tunnel = record.protocol === 'connect' || record.protocol === 'socks5' || record.protocol === 'udp';
  const requestBody = record.requestBody;
  const responseBody = record.responseBody;
  const httpVersion = !tunnel && record.tls?.alpn === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1';
  // A SOCKS5 reply code 0 means the tunnel was set up; HAR needs an HTTP status.
  const status = record.protocol === 'socks5' || record.protocol === 'udp' ? (record.status === 0 ? 200 : 502) : (record.status ?? 0);
  const seen = record.tls?.decrypted ? 'decrypted, its requests are entries of their own' : record.protocol === 'udp' ? 'metadata only' : 'not decrypted, metadata only';
  const notes = [tunnel ? `${TUNNEL_KIND[record.protocol]}: ${seen}` : null, !tunnel && record.tls?.decrypted ? 'decrypted by HTTPS interception' : null, udpNote(record), record.backend ? `backend ${record.backend}` : null, record.error ? `error ${record.error}` : null];
  return {
    startedDateTime: new Date(record.startedAt).toISOString(),
    time: record.durationMs ?? 0,
    request: {
      method: record.method,
      url,
      httpVersion,
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
      httpVersion,
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
    timings: timingsOf(record),
    comment: notes.filter((n) => n !== null).join('; '),
    ...(tunnel
      ? { _tunnel: { decrypted: record.tls?.decrypted === true, ...record.tls, ...(record.backend ? { backend: record.backend } : {}), bytesIn: record.bytesIn, bytesOut: record.bytesOut } }
      : {}),
  };
}

/**
 * The phases the proxy measured: name resolution and the dial through the backend (a tunnel's,
 * or a request's new pooled connection), TLS (a tunnel's client handshake with the interception
 * front, a request's handshake with the origin), a request's wait for the head and its body.
 * What was not measured is -1 (HAR's "does not apply": a request on a reused connection has no
 * dns or connect), or all of the time in `wait` when nothing was.
 */
function timingsOf(record: ConnectionRecord): HarEntry['timings'] {
  const total = record.durationMs ?? 0;
  const ssl = record.tlsMs ?? -1;
  // HAR counts the TLS negotiation inside connect.
  const connect = record.connectMs === undefined && ssl === -1 ? -1 : (record.connectMs ?? 0) + Math.max(0, ssl);
  const dns = record.dnsMs ?? -1;
  if (record.waitMs !== undefined) return { dns, connect, ssl, send: 0, wait: record.waitMs, receive: record.receiveMs ?? Math.max(0, total - record.waitMs) };
  return { dns, connect, ssl, send: 0, wait: Math.max(0, total - Math.max(0, dns) - Math.max(0, connect)), receive: 0 };
}

/** Records (any order) as a HAR 1.2 document, oldest first. */
export function toHar(records: ConnectionRecord[], version: string): Har {
  const entries = [...records].sort((a, b) => a.startedAt - b.startedAt).map(harEntry);
  return { log: { version: '1.2', creator: { name: 'simple-proxy', version }, entries } };
}
