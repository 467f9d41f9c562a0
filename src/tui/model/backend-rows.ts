import type { BackendView } from '../../control/answers/backends.js';
import type { StatsAnswer } from '../../control/answers/daemon.js';
import type { StreamLine } from '../../control/answers/records.js';

/** A `backend:health` event of the live stream. */
type HealthEvent = Extract<StreamLine, { type: 'backend:health' }>;

/** Checks kept a backend for its latency strip. */
const CHECKS_KEPT = 40;

/** One line of the backends pane, and what its detail view shows. */
export interface BackendRow {
  name: string;
  type: string;
  /** `host:port` of a proxy backend, the config file of a VPN, null for direct. */
  address: string | null;
  health: 'healthy' | 'unhealthy' | 'unknown' | 'unavailable';
  /** When the dashboard saw it enter this state. */
  since: number;
  reason?: string;
  latencyMs: number | null;
  failures: number;
  uptimePercent: number | null;
  active: number;
  total: number;
  errors: number;
  /** network.limits.max_connections_per_backend (0: none). */
  limit: number;
  /** The last health checks seen, oldest first: latency, or null for a failed check. */
  checks: (number | null)[];
  lastCheck: number | null;
}

const RANK: Record<BackendRow['health'], number> = { unavailable: 0, unhealthy: 0, unknown: 1, healthy: 2 };

/** Unhealthy and unavailable backends first (what needs a look), then unknown, then healthy; by name within each. */
export function orderBackends(rows: BackendRow[]): BackendRow[] {
  return rows.sort((a, b) => RANK[a.health] - RANK[b.health] || a.name.localeCompare(b.name));
}

/** Records a check in a row's strip when the daemon reports a newer one. */
function withCheck(row: BackendRow, previous: BackendRow | undefined): BackendRow {
  const checks = previous?.checks ?? [];
  if (row.lastCheck === null || row.lastCheck === previous?.lastCheck) return { ...row, checks };
  const next = [...checks, row.failures > 0 ? null : row.latencyMs];
  return { ...row, checks: next.length > CHECKS_KEPT ? next.slice(-CHECKS_KEPT) : next };
}

/** A backend row from the API's view of it, carrying over what the dashboard learnt before (state since, checks). */
export function backendRow(view: BackendView, stats: StatsAnswer['backends'][string] | undefined, previous: BackendRow | undefined, limit: number, nowMs: number): BackendRow {
  const { health, connections } = view;
  const state: BackendRow['health'] = view.status === 'unavailable' ? 'unavailable' : health.status === 'healthy' || health.status === 'unhealthy' ? health.status : (previous?.health ?? 'unknown');
  const row: BackendRow = {
    name: view.name,
    type: view.type,
    address: view.address,
    health: state,
    since: previous && previous.health === state ? previous.since : nowMs,
    reason: view.reason ?? health.reason,
    latencyMs: health.latencyMs ?? previous?.latencyMs ?? null,
    failures: health.consecutiveFailures,
    uptimePercent: health.uptimePercent ?? previous?.uptimePercent ?? null,
    active: stats?.active ?? 0,
    total: connections.total,
    errors: connections.errors,
    limit,
    checks: [],
    lastCheck: health.lastCheck,
  };
  return withCheck(row, previous);
}

/** Applies a `backend:health` event to a row (in place); whether the state changed. */
export function applyHealthEvent(row: BackendRow, event: HealthEvent, nowMs: number): boolean {
  const health: BackendRow['health'] = event.healthy ? 'healthy' : 'unhealthy';
  const changed = row.health !== health;
  if (changed) row.since = nowMs;
  row.health = health;
  row.latencyMs = event.latencyMs ?? row.latencyMs;
  row.failures = event.consecutiveFailures;
  row.reason = event.reason;
  return changed;
}
