import type { RecordAnswer } from '../../control/answers/records.js';
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
  /**
   * Bytes so far as the daemon reports them; `-` while it reports none (a tunnel's are counted
   * when it ends), rather than a 0 that would claim nothing went through.
   */
  bytes: string;
}

/** An address with its brackets taken off (IPv6). */
const bare = (address: string): string => address.replace(/^\[(.*)\]$/, '$1');

/** The open connections, oldest first, as rows of text (ages as of `now`). */
export function connectionRows(records: readonly RecordAnswer[], now: number): ConnectionRow[] {
  return [...records]
    .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id))
    .map((r) => {
      const total = r.bytesIn + r.bytesOut;
      const client = bare(r.clientAddress);
      return {
        id: r.id,
        client,
        age: formatDuration(Math.max(0, now - r.startedAt)),
        clientText: client.includes(':') ? `[${client}]:${r.clientPort}` : `${client}:${r.clientPort}`,
        user: r.user ?? '-',
        protocol: r.protocol,
        target: `${r.host}:${r.port}${r.protocol === 'http' ? (r.path ?? '') : ''}`,
        rule: r.rule ?? '-',
        backend: r.backend ?? '-',
        bytes: total > 0 ? formatBytes(total) : '-',
      };
    });
}
