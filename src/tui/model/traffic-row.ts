import type { ConnectionRecord } from '../../protocol/connection-record.js';

/** One line of the traffic pane: the record's fields it shows, the client as one address, and whether it is still open. */
export type TrafficRow = Pick<
  ConnectionRecord,
  'id' | 'startedAt' | 'protocol' | 'user' | 'method' | 'host' | 'port' | 'path' | 'rule' | 'backend' | 'status' | 'bytesIn' | 'bytesOut' | 'durationMs' | 'error' | 'udp'
> & {
  client: string;
  open: boolean;
  /** Set on a line that marks an event in the list (a daemon restart) rather than a request. */
  marker?: string;
};

/** The row of a record. */
export function toRow(record: ConnectionRecord, open: boolean): TrafficRow {
  return {
    id: record.id,
    startedAt: record.startedAt,
    protocol: record.protocol,
    client: record.clientAddress.includes(':') && !record.clientAddress.startsWith('::ffff:') ? `[${record.clientAddress}]:${record.clientPort}` : `${record.clientAddress.replace(/^::ffff:/, '')}:${record.clientPort}`,
    user: record.user,
    method: record.method,
    host: record.host,
    port: record.port,
    path: record.path,
    rule: record.rule,
    backend: record.backend,
    status: record.status,
    bytesIn: record.bytesIn,
    bytesOut: record.bytesOut,
    durationMs: record.durationMs,
    error: record.error,
    udp: record.udp,
    open,
  };
}

/** A marker line (`daemon restarted`) at time `at`. */
export function markerRow(id: string, text: string, at: number): TrafficRow {
  return { id, startedAt: at, protocol: 'http', client: '', method: '', host: '', port: 0, bytesIn: 0, bytesOut: 0, open: false, marker: text };
}
