import type { CapturedBody, ConnectionRecord, HeaderList } from '../protocol/connection-record.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The last second formatted: busy logs stamp thousands of lines within the same second. */
let lastSecond = { at: NaN, text: '' };

/** `2024-01-15 10:30:45.123` in local time, as the debug log shows it. */
export function logTimestamp(time: number): string {
  const ms = Math.floor(time);
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond.at) {
    const d = new Date(second * 1000);
    lastSecond = { at: second, text: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` };
  }
  return `${lastSecond.text}.${pad(ms - second * 1000, 3)}`;
}

/** The host as the REQ line shows it: with the port for tunnels and non-default ports. */
export function displayHost(record: ConnectionRecord): string {
  const host = record.host.includes(':') ? `[${record.host}]` : record.host;
  const defaultPort = record.protocol === 'http' || record.protocol === 'upgrade' ? record.port === 80 || record.port === 443 : false;
  return defaultPort || record.port === 0 ? host : `${host}:${record.port}`;
}

/** The debug log's REQ line (without the headers and body lines). */
export function requestLine(record: ConnectionRecord): string {
  const parts = [`[${logTimestamp(record.startedAt)}] [REQ] id=${record.id} method=${record.method} host=${displayHost(record)} path=${record.path ?? '-'}`];
  parts.push(`client=${record.clientAddress.includes(':') ? `[${record.clientAddress}]` : record.clientAddress}:${record.clientPort}`);
  parts.push(`route=${record.backend ?? '-'}`);
  // After the line's fixed fields, so a parser of the fixed format still reads them in place.
  if (record.user !== undefined) parts.push(`user=${record.user}`);
  if (record.tls?.decrypted && record.protocol !== 'connect' && record.protocol !== 'socks5') parts.push('tls=decrypted');
  return parts.join(' ');
}

/** The debug log's RES line. */
export function responseLine(record: ConnectionRecord): string {
  const end = record.startedAt + (record.durationMs ?? 0);
  const line = `[${logTimestamp(end)}] [RES] id=${record.id} status=${record.status ?? '-'} size=${record.bytesOut} duration=${record.durationMs ?? 0}ms`;
  return record.error !== undefined ? `${line} error=${record.error}` : line;
}

/** `  Timing: connect=…` and `  TLS: …` of a finished record, as far as measured (for `debug tail`; the log keeps spec 4.1's lines). */
export function detailAfterResponse(record: ConnectionRecord): string[] {
  const out: string[] = [];
  const phases = [['dns', record.dnsMs], ['connect', record.connectMs], ['tls', record.tlsMs], ['wait', record.waitMs], ['receive', record.receiveMs]].filter(([, ms]) => ms !== undefined);
  if (phases.length > 0) out.push(`  Timing: ${phases.map(([name, ms]) => `${name}=${ms}ms`).join(' ')}`);
  const tls = record.tls;
  if (tls && (record.protocol === 'connect' || record.protocol === 'socks5')) {
    out.push(`  TLS: ${tls.decrypted ? 'decrypted' : 'not decrypted'}${tls.sni ? ` sni=${tls.sni}` : ''}${tls.alpnOffered ? ` alpn-offered=${tls.alpnOffered.join(',')}` : ''}${tls.alpn ? ` alpn=${tls.alpn}` : ''}`);
  }
  return out;
}

/** `  Headers: Name: value, Name: value` (values already masked). */
export function headersLine(headers: HeaderList): string {
  const pairs: string[] = [];
  for (let i = 0; i < headers.length; i += 2) pairs.push(`${headers[i]}: ${headers[i + 1]}`);
  return `  Headers: ${pairs.join(', ')}`;
}

/** `  Body: …` on one line (control characters escaped), with the total size when cut. */
export function bodyLine(body: CapturedBody): string {
  const text = body.encoding === 'utf8' ? JSON.stringify(body.text).slice(1, -1) : `base64:${body.text}`;
  return `  Body: ${text}${body.truncated ? ` … (${body.size} bytes in total)` : ''}`;
}

/** What the debug log shows for a record, in order. */
export interface LogOptions {
  requests: boolean;
  responses: boolean;
}

/** The debug-log lines for the start of a record. */
export function startLines(record: ConnectionRecord, options: LogOptions): string[] {
  if (!options.requests) return [];
  const lines = [requestLine(record)];
  if (record.requestHeaders) lines.push(headersLine(record.requestHeaders));
  return lines;
}

/** The debug-log lines for the end of a record (the request body is only known by then). */
export function endLines(record: ConnectionRecord, options: LogOptions): string[] {
  const lines: string[] = [];
  if (options.requests && record.requestBody) lines.push(bodyLine(record.requestBody));
  if (!options.responses) return lines;
  lines.push(responseLine(record));
  if (record.responseHeaders) lines.push(headersLine(record.responseHeaders));
  if (record.responseBody) lines.push(bodyLine(record.responseBody));
  return lines;
}

/** The text a filter searches (lower case): what the debug lines show of a record. */
export function recordText(record: ConnectionRecord): string {
  return `${record.method} ${record.host}:${record.port}${record.path ?? ''} ${record.clientAddress} ${record.user ?? ''} ${record.backend ?? ''} ${record.status ?? ''} ${record.error ?? ''}`.toLowerCase();
}

const COLOURS = { green: 32, cyan: 36, yellow: 33, red: 31, dim: 2 } as const;

/** A record's outcome as the views colour it: an HTTP status class, or `err` for a failure. */
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'err';

/** Whether a record failed (a client that went away is no failure of the proxy's). */
export function isFailure(record: Pick<ConnectionRecord, 'error'>): boolean {
  return record.error !== undefined && record.error !== 'client-closed';
}

/**
 * The status class of a record (null while unanswered). A refusal keeps the class of the status
 * it sent (a 429 is a 4xx whatever its error word); a failure after a 1xx–3xx answer (a tunnel
 * that broke) and one with no HTTP status at all are `err`.
 */
export function statusClass(record: Pick<ConnectionRecord, 'protocol' | 'status' | 'error'>): StatusClass | null {
  const failed = isFailure(record);
  if (record.status === undefined) return failed ? 'err' : null;
  if (record.protocol === 'socks5' || record.protocol === 'udp') return record.status === 0 && !failed ? '2xx' : 'err';
  if (record.status >= 500) return '5xx';
  if (record.status >= 400) return '4xx';
  if (failed) return 'err';
  return record.status >= 300 ? '3xx' : '2xx';
}

const CLASS_COLOURS: Record<StatusClass, keyof typeof COLOURS> = { '2xx': 'green', '3xx': 'cyan', '4xx': 'yellow', '5xx': 'red', err: 'red' };

/** The colour of a record's status class: 2xx green, 3xx cyan, 4xx yellow, 5xx and failures red. */
export function statusColour(record: ConnectionRecord): keyof typeof COLOURS | null {
  const cls = statusClass(record);
  return cls === null ? null : CLASS_COLOURS[cls];
}

/** The debug-log lines of one live traffic event, coloured by status class when asked. */
export function trafficEventLines(phase: 'request' | 'response', record: ConnectionRecord, colour: boolean): string[] {
  const options = { requests: true, responses: true };
  const lines = phase === 'request' ? startLines(record, options) : [...endLines(record, options), ...detailAfterResponse(record)];
  const code = colour ? statusColour(record) : null;
  if (!colour) return lines;
  return lines.map((line) => (line.startsWith('  ') ? `\x1b[${COLOURS.dim}m${line}\x1b[0m` : code && phase === 'response' ? `\x1b[${COLOURS[code]}m${line}\x1b[0m` : line));
}
