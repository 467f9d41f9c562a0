import type { RecordAnswer } from '../../control/answers/records.js';
import { datagramText, ratesBetween } from '../../protocol/byte-rate.js';
import { formatBytes, formatDuration } from './format.js';

/** One open connection as the Connections view lists it. */
export interface ConnectionRow {
  id: string;
  /** The client address without its port: what closing "all of this client's" goes by. */
  client: string;
  age: string;
  clientText: string;
  user: string;
  protocol: string;
  target: string;
  rule: string;
  backend: string;
  /** Bytes so far from the client (up) and to it (down). */
  up: string;
  down: string;
  /** Bytes per second both ways between the previous answer and this one; `-` for a connection the previous answer did not have. */
  rate: string;
}

/** One answer of the daemon: the open connections, and when it came. */
export interface ConnectionsRead {
  records: readonly RecordAnswer[];
  at: number;
}

/** An address with its brackets taken off (IPv6). */
const bare = (address: string): string => address.replace(/^\[(.*)\]$/, '$1');

/** The open connections, oldest first, as rows of text (ages as of `now`); rates from the growth since the `previous` answer. */
export function connectionRows(records: readonly RecordAnswer[], now: number, previous: ConnectionsRead | null = null): ConnectionRow[] {
  const rates = previous ? ratesBetween(previous.records, records, now - previous.at) : new Map<string, never>();
  return [...records]
    .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id))
    .map((r) => {
      const rate = rates.get(r.id);
      const client = bare(r.clientAddress);
      return {
        id: r.id,
        client,
        age: formatDuration(Math.max(0, now - r.startedAt)),
        clientText: client.includes(':') ? `[${client}]:${r.clientPort}` : `${client}:${r.clientPort}`,
        user: r.user ?? '-',
        protocol: r.protocol,
        target: `${r.host}:${r.port}${r.protocol === 'http' ? (r.path ?? '') : ''}${r.udp ? ` (${datagramText(r.udp)})` : ''}`,
        rule: r.rule ?? '-',
        backend: r.backend ?? '-',
        up: formatBytes(r.bytesIn),
        down: formatBytes(r.bytesOut),
        rate: rate ? `${formatBytes(rate.in + rate.out)}/s` : '-',
      };
    });
}
