import type { ConnectionRecord } from '../../proxy/connection-record.js';
import { isFailure, statusClass as recordStatusClass, type StatusClass } from '../../debug/traffic-format.js';

/** One line of the traffic pane: the record's fields it shows, the client as one address, and whether it is still open. */
export type TrafficRow = Pick<
  ConnectionRecord,
  'id' | 'startedAt' | 'protocol' | 'user' | 'method' | 'host' | 'port' | 'path' | 'rule' | 'backend' | 'status' | 'bytesIn' | 'bytesOut' | 'durationMs' | 'error'
> & {
  client: string;
  open: boolean;
};

/** What the filter box narrows rows by; every part that is set must match. */
export interface TrafficFilter {
  /** Substring of host, path, client, user, method, backend or error. */
  text?: string;
  host?: string;
  method?: string;
  /** `2xx`, `4xx`, `5xx`, … or `err` for failures. */
  status?: string;
  backend?: string;
}

/**
 * Parses the filter box: `host:api method:GET status:5xx backend:vpn` plus free text, in any
 * order (`key:value` words set a field, other words are searched everywhere).
 */
export function parseFilter(input: string): TrafficFilter {
  const filter: TrafficFilter = {};
  const free: string[] = [];
  for (const word of input.trim().split(/\s+/).filter(Boolean)) {
    const match = /^(host|method|status|backend):(.+)$/i.exec(word);
    if (!match) free.push(word);
    else if (match[1].toLowerCase() === 'method') filter.method = match[2].toUpperCase();
    else filter[match[1].toLowerCase() as 'host' | 'status' | 'backend'] = match[2].toLowerCase();
  }
  if (free.length > 0) filter.text = free.join(' ').toLowerCase();
  return filter;
}

/** The status class of a row: `2xx`…`5xx`, `err` for failures, `open` while unanswered (`status:err` finds every failure, whatever its class). */
export function statusClass(row: TrafficRow): StatusClass | 'open' {
  return recordStatusClass(row) ?? 'open';
}

/** Whether a row passes the filter. */
export function matchesFilter(row: TrafficRow, filter: TrafficFilter): boolean {
  if (filter.host !== undefined && !row.host.toLowerCase().includes(filter.host)) return false;
  if (filter.method !== undefined && row.method !== filter.method) return false;
  if (filter.backend !== undefined && (row.backend ?? '').toLowerCase() !== filter.backend) return false;
  if (filter.status !== undefined) {
    const cls = statusClass(row);
    const wanted = filter.status.replace(/x+$/, '');
    const asked = cls === filter.status || (filter.status === 'err' && isFailure(row)) || (/^\d/.test(wanted) && cls.startsWith(wanted)) || String(row.status ?? '') === filter.status;
    if (!asked) return false;
  }
  if (filter.text !== undefined) {
    const haystack = `${row.method} ${row.host}:${row.port}${row.path ?? ''} ${row.client} ${row.user ?? ''} ${row.backend ?? ''} ${row.error ?? ''} ${row.status ?? ''}`.toLowerCase();
    if (!haystack.includes(filter.text)) return false;
  }
  return true;
}

function toRow(record: ConnectionRecord, open: boolean): TrafficRow {
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
    open,
  };
}

/**
 * The most recent requests and tunnels, newest first, bounded by `capacity` whatever the event
 * rate. Paused, it keeps collecting but shows what it showed when paused.
 */
export class TrafficHistory {
  private readonly rows: TrafficRow[] = [];
  private readonly byId = new Map<string, TrafficRow>();
  private frozen: TrafficRow[] | null = null;

  constructor(private readonly capacity = 500) {}

  /** Adds or updates the row of a record (a start, then its end). */
  upsert(record: ConnectionRecord, open: boolean): void {
    const row = toRow(record, open);
    const index = this.byId.has(record.id) ? this.rows.indexOf(this.byId.get(record.id)!) : -1;
    if (index >= 0) this.rows[index] = row;
    else {
      this.rows.unshift(row);
      if (this.rows.length > this.capacity) this.byId.delete(this.rows.pop()!.id);
    }
    this.byId.set(record.id, row);
  }

  /** Freezes what `visible` shows. */
  pause(): void {
    this.frozen ??= this.rows.slice();
  }

  /** Shows live rows again. */
  resume(): void {
    this.frozen = null;
  }

  /** Whether the view is frozen. */
  get paused(): boolean {
    return this.frozen !== null;
  }

  /** Rows kept. */
  get size(): number {
    return this.rows.length;
  }

  /** Rows to show (newest first), narrowed by the filter. */
  visible(filter: TrafficFilter = {}): TrafficRow[] {
    const source = this.frozen ?? this.rows;
    return filter.text === undefined && filter.host === undefined && filter.method === undefined && filter.status === undefined && filter.backend === undefined
      ? source.slice()
      : source.filter((row) => matchesFilter(row, filter));
  }

  /** One row by id. */
  get(id: string): TrafficRow | undefined {
    return this.byId.get(id);
  }
}
