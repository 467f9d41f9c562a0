import type { ConnectionRecord } from '../../protocol/connection-record.js';
import { statusClass, type TrafficFilter } from './traffic-filter.js';
import { markerRow, toRow, type TrafficRow } from './traffic-row.js';

/** What the traffic list can be sorted by (`s` cycles, `S` reverses). */
export const SORT_KEYS = ['time', 'duration', 'bytes', 'status', 'host'] as const;

/** One sort key. */
export type SortKey = (typeof SORT_KEYS)[number];

/** The order of the list: a key, and whether the largest (newest, slowest…) comes first. */
export interface SortOrder {
  key: SortKey;
  descending: boolean;
}

/** Newest first, as the list opens. */
export const DEFAULT_SORT: SortOrder = { key: 'time', descending: true };

const SORT_VALUE: Record<SortKey, (row: TrafficRow) => number | string> = {
  time: (row) => row.startedAt,
  duration: (row) => row.durationMs ?? Number.MAX_SAFE_INTEGER,
  bytes: (row) => row.bytesIn + row.bytesOut,
  status: (row) => row.status ?? (statusClass(row) === 'err' ? 1000 : -1),
  host: (row) => `${row.host}:${row.port}${row.path ?? ''}`,
};

/**
 * The most recent requests and tunnels, newest first, bounded by `capacity` whatever the event
 * rate. Paused, it keeps collecting but shows what it showed when paused.
 */
export class TrafficHistory {
  private readonly rows: TrafficRow[] = [];
  private readonly byId = new Map<string, TrafficRow>();
  private frozen: TrafficRow[] | null = null;
  private markers = 0;

  constructor(private readonly capacity = 500) {}

  /** Adds or updates the row of a record (a start, then its end). */
  upsert(record: ConnectionRecord, open: boolean): void {
    const row = toRow(record, open);
    const old = this.byId.get(record.id);
    const index = old ? this.rows.indexOf(old) : -1;
    if (index >= 0) this.rows[index] = row;
    else {
      this.rows.unshift(row);
      this.trim();
    }
    this.byId.set(record.id, row);
  }

  /**
   * Takes records the daemon kept from before the dashboard (re)connected, newest first: those
   * not listed yet go in time order below anything newer; how many were added.
   */
  backfill(records: readonly ConnectionRecord[]): number {
    let added = 0;
    for (const record of records) {
      if (this.byId.has(record.id)) continue;
      const row = toRow(record, record.durationMs === undefined);
      let at = this.rows.findIndex((r) => r.startedAt < row.startedAt);
      if (at < 0) at = this.rows.length;
      if (at >= this.capacity) continue;
      this.rows.splice(at, 0, row);
      this.byId.set(row.id, row);
      added++;
    }
    this.trim();
    return added;
  }

  /** Puts a marker line (a daemon restart) at the top of the list. */
  mark(text: string, at: number): void {
    const row = markerRow(`marker-${++this.markers}`, text, at);
    this.rows.unshift(row);
    this.byId.set(row.id, row);
    this.trim();
  }

  /** Forgets every row. */
  clear(): void {
    this.rows.length = 0;
    this.byId.clear();
    if (this.frozen) this.frozen = [];
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

  /** Rows to show, narrowed by the filter (markers only when nothing filters) and sorted (newest first unless told). */
  visible(filter?: TrafficFilter, sort: SortOrder = DEFAULT_SORT): TrafficRow[] {
    const source = this.frozen ?? this.rows;
    const shown = !filter || filter.empty ? source.slice() : source.filter((row) => row.marker === undefined && filter.test(row));
    if (sort.key === 'time' && sort.descending) return shown;
    const value = SORT_VALUE[sort.key];
    const sign = sort.descending ? -1 : 1;
    // Stable on time: rows of equal value stay newest first.
    return shown.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      return x < y ? -sign : x > y ? sign : 0;
    });
  }

  /** One row by id. */
  get(id: string): TrafficRow | undefined {
    return this.byId.get(id);
  }

  private trim(): void {
    while (this.rows.length > this.capacity) this.byId.delete(this.rows.pop()!.id);
  }
}
