import { maskHeaderList, maskedNames } from '../debug/header-mask.js';
import type { ConnectionRecord, HeaderList } from '../protocol/connection-record.js';
import { unmapIpv4 } from '../policy/ip-address.js';
import type { AccessLogSettings } from '../policy/policy-settings.js';

/** An access-log field name (`access_log.fields`). */
export type AccessLogField = NonNullable<AccessLogSettings['fields']>[number];

/** The spec's field list, used when `fields` is not given. */
export const DEFAULT_FIELDS: readonly AccessLogField[] = ['timestamp', 'client_ip', 'username', 'method', 'host', 'path', 'status', 'bytes_sent', 'duration', 'backend', 'user_agent'];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** SOCKS5 reply codes as the HTTP status an Apache-format reader expects. */
const SOCKS_AS_HTTP: Record<number, number> = { 0: 200, 1: 502, 2: 403, 3: 502, 4: 502, 5: 502, 6: 504, 7: 400, 8: 400 };

/** How one record looks in the access log, without the newline. */
export function formatAccessLine(record: ConnectionRecord, settings: Pick<AccessLogSettings, 'format' | 'fields' | 'mask_headers'> & { unmask?: string[] }): string {
  if (settings.format === 'json') return JSON.stringify(jsonEntry(record, settings.fields ?? DEFAULT_FIELDS, settings.mask_headers, settings.unmask));
  const common = `${client(record)} - ${apacheString(record.user, false)} [${apacheTime(record.startedAt)}] "${escape(requestLine(record))}" ${status(record)} ${record.bytesOut > 0 ? record.bytesOut : '-'}`;
  if (settings.format === 'apache_common') return common;
  return `${common} "${apacheString(record.referer, true)}" "${apacheString(record.userAgent, true)}"`;
}

function jsonEntry(record: ConnectionRecord, fields: readonly AccessLogField[], mask: readonly string[], unmask: readonly string[] = []): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  for (const field of fields) {
    switch (field) {
      case 'timestamp':
        entry.timestamp = new Date(record.startedAt).toISOString();
        break;
      case 'client_ip':
        entry.client_ip = client(record);
        break;
      case 'username':
        entry.username = record.user ?? null;
        break;
      case 'method':
        entry.method = record.method;
        break;
      case 'host':
        entry.host = record.host;
        break;
      case 'path':
        entry.path = record.path ?? null;
        break;
      case 'status':
        entry.status = record.status ?? null;
        break;
      case 'bytes_sent':
        entry.bytes_sent = record.bytesOut;
        break;
      case 'bytes_received':
        entry.bytes_received = record.bytesIn;
        break;
      case 'duration':
        entry.duration_ms = record.durationMs ?? null;
        break;
      case 'backend':
        entry.backend = record.backend ?? null;
        break;
      case 'rule':
        entry.rule = record.rule ?? null;
        break;
      case 'user_agent':
        entry.user_agent = record.userAgent ?? null;
        break;
      case 'referer':
        entry.referer = record.referer ?? null;
        break;
    }
  }
  // Why a request failed or was refused is part of every entry that has one.
  if (record.error) entry.error = record.error;
  // A UDP association's datagrams and destinations are part of its entry, whatever the fields.
  const udp = record.udp;
  if (udp) entry.udp = { datagrams_in: udp.datagramsIn, datagrams_out: udp.datagramsOut, dropped: udp.dropped, destinations: udp.destinations, destination_count: udp.destinationCount };
  if (record.requestHeaders) entry.request_headers = masked(record.requestHeaders, mask, unmask);
  if (record.responseHeaders) entry.response_headers = masked(record.responseHeaders, mask, unmask);
  return entry;
}

/** Headers as a name → value object with the values of the masked names (the defaults plus `names`, case-insensitive) replaced; repeated names are joined. */
export function masked(headers: HeaderList, names: readonly string[], unmask: readonly string[] = []): Record<string, string> {
  const list = maskHeaderList(headers, maskedNames(names, unmask));
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) out[list[i]] = out[list[i]] === undefined ? list[i + 1] : `${out[list[i]]}, ${list[i + 1]}`;
  return out;
}

function client(record: ConnectionRecord): string {
  return unmapIpv4(record.clientAddress) || '-';
}

function requestLine(record: ConnectionRecord): string {
  const authority = `${record.host.includes(':') ? `[${record.host}]` : record.host}:${record.port}`;
  if (record.protocol === 'connect') return `CONNECT ${authority} HTTP/1.1`;
  if (record.protocol === 'socks5') return `CONNECT ${authority} SOCKS/5`;
  if (record.protocol === 'udp') return `UDP ${authority} SOCKS/5`;
  const origin = record.port === 80 ? authority.slice(0, authority.lastIndexOf(':')) : authority;
  return `${record.method} http://${origin}${record.path ?? '/'} HTTP/1.1`;
}

function status(record: ConnectionRecord): number {
  if (record.status === undefined) return 499;
  return record.protocol === 'socks5' || record.protocol === 'udp' ? (SOCKS_AS_HTTP[record.status] ?? 502) : record.status;
}

/** `[10/Oct/2000:13:55:36 +0000]` without the brackets, in UTC. */
function apacheTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

function apacheString(value: string | undefined, quoted: boolean): string {
  if (value === undefined || value === '') return '-';
  return quoted ? escape(value) : escape(value).replace(/ /g, '_');
}

/** Apache's escaping: quotes and backslashes escaped, control bytes as \xhh. */
function escape(text: string): string {
  return text.replace(/["\\]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
