import type { ConnectionRecord } from '../protocol/connection-record.js';
import { Interception, NO_INTERCEPTION, type InterceptionCounts } from '../mitm/interception.js';

/** Distinct hosts counted by name in one process; later ones count as "(other)". */
const MAX_HOSTS = 10_000;

/** What `GET /api/debug/stats` answers. */
export interface TrafficStats {
  enabled: boolean;
  since: number | null;
  requests: number;
  tunnels: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  averageDurationMs: number;
  byStatusClass: Record<string, number>;
  byMethod: Record<string, number>;
  byBackend: Record<string, number>;
  topHosts: { host: string; count: number }[];
  kept: number;
  keptBytes: number;
  droppedLines: number;
  /** HTTPS interception (debug.mitm): tunnels opened up or passed through, client refusals, leaf certificates. */
  mitm: InterceptionCounts;
}

/**
 * One engine process's raw counters (maps without a prototype, so any host name is a plain key):
 * sums and whole maps rather than averages and a top ten, so that the answers of several
 * processes add up exactly.
 */
export interface TrafficCounts extends Omit<TrafficStats, 'enabled' | 'averageDurationMs' | 'topHosts'> {
  finished: number;
  durationMs: number;
  hosts: Record<string, number>;
}

/** Counters with nothing counted yet. */
export function emptyCounts(since: number | null): TrafficCounts {
  return {
    since,
    requests: 0,
    tunnels: 0,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
    finished: 0,
    durationMs: 0,
    byStatusClass: Object.create(null) as Record<string, number>,
    byMethod: Object.create(null) as Record<string, number>,
    byBackend: Object.create(null) as Record<string, number>,
    hosts: Object.create(null) as Record<string, number>,
    kept: 0,
    keptBytes: 0,
    droppedLines: 0,
    mitm: NO_INTERCEPTION,
  };
}

/** Counts one finished record; `hosts` is the process's own count by host, bounded in size. */
export function countRecord(counts: TrafficCounts, hosts: Map<string, number>, record: ConnectionRecord): void {
  if (record.protocol === 'http') counts.requests++;
  else counts.tunnels++;
  if (record.error !== undefined) counts.errors++;
  counts.bytesIn += record.bytesIn;
  counts.bytesOut += record.bytesOut;
  counts.finished++;
  counts.durationMs += record.durationMs ?? 0;
  const statusClass = record.status === undefined ? 'none' : record.protocol === 'socks5' ? `socks:${record.status}` : `${Math.floor(record.status / 100)}xx`;
  bump(counts.byStatusClass, statusClass);
  bump(counts.byMethod, record.method);
  bump(counts.byBackend, record.backend ?? 'none');
  const host = hosts.has(record.host) || hosts.size < MAX_HOSTS ? record.host : '(other)';
  hosts.set(host, (hosts.get(host) ?? 0) + 1);
}

/** The stats of several engine processes as one: sums, merged maps, the earliest start, and at most `history` kept. */
export function mergeCounts(parts: TrafficCounts[], enabled: boolean, history: number): TrafficStats {
  const total = emptyCounts(null);
  for (const part of parts) {
    if (part.since !== null && (total.since === null || part.since < total.since)) total.since = part.since;
    for (const key of ['requests', 'tunnels', 'errors', 'bytesIn', 'bytesOut', 'finished', 'durationMs', 'kept', 'keptBytes', 'droppedLines'] as const) total[key] += part[key];
    for (const key of ['byStatusClass', 'byMethod', 'byBackend', 'hosts'] as const) for (const [name, count] of Object.entries(part[key])) bump(total[key], name, count);
    total.mitm = Interception.merge(total.mitm, part.mitm);
  }
  const topHosts = Object.entries(total.hosts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([host, count]) => ({ host, count }));
  return {
    enabled,
    since: total.since,
    requests: total.requests,
    tunnels: total.tunnels,
    errors: total.errors,
    bytesIn: total.bytesIn,
    bytesOut: total.bytesOut,
    averageDurationMs: total.finished > 0 ? Math.round(total.durationMs / total.finished) : 0,
    byStatusClass: total.byStatusClass,
    byMethod: total.byMethod,
    byBackend: total.byBackend,
    topHosts,
    kept: Math.min(total.kept, history),
    keptBytes: total.keptBytes,
    droppedLines: total.droppedLines,
    mitm: total.mitm,
  };
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}
