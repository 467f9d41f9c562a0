import type { ConnectionRecord } from '../../proxy/connection-record.js';
import { LimitStats, type LimitHitEvent } from './limit-stats.js';
import { RateSeries } from './rate-series.js';
import { TrafficHistory } from './traffic-history.js';

/** One line of the backends pane. */
export interface BackendRow {
  name: string;
  type: string;
  health: 'healthy' | 'unhealthy' | 'unknown' | 'unavailable';
  reason?: string;
  latencyMs: number | null;
  failures: number;
  uptimePercent: number | null;
  active: number;
  total: number;
  errors: number;
  /** network.limits.max_connections_per_backend (0: none). */
  limit: number;
}

/** Open connections against network.limits, from the daemon's stats. */
export interface ConnectionLoad {
  active: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** The clients with the most open connections, most first. */
  busiest: { client: string; active: number }[];
}

/** What the status line shows. */
export interface DaemonSummary {
  role: string;
  uptimeSeconds: number;
  listeners: string;
  configVersion: string;
  configSource: string;
  connectionsActive: number;
  debug: boolean;
}

/** The state of the link to the daemon. */
export type LinkState = { state: 'connecting' } | { state: 'connected' } | { state: 'lost'; since: number; error: string };

type Json = Record<string, unknown>;
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * Everything the dashboard shows, fed by the daemon's live events and status polls. Pure data:
 * bounded whatever the event rate, rendered at a fixed frame rate by the view.
 */
export class DashboardModel {
  readonly traffic: TrafficHistory;
  readonly series = new RateSeries(600);
  readonly limits = new LimitStats();
  backends: BackendRow[] = [];
  summary: DaemonSummary | null = null;
  load: ConnectionLoad | null = null;
  link: LinkState = { state: 'connecting' };
  /** The last result worth telling (reload, backend test), with when it happened. */
  message: { text: string; error: boolean; at: number } | null = null;
  /** Events applied since start (a cheap "something changed" signal for the view). */
  revision = 0;

  constructor(history = 500) {
    this.traffic = new TrafficHistory(history);
  }

  /** Applies one event of the live stream. */
  apply(event: Json, nowMs: number): void {
    this.revision++;
    switch (event.type) {
      case 'connection:start':
        this.traffic.upsert(event.record as ConnectionRecord, true);
        break;
      case 'connection:end': {
        const record = event.record as ConnectionRecord;
        this.traffic.upsert(record, false);
        this.series.add(nowMs, 1, record.bytesIn + record.bytesOut);
        break;
      }
      case 'limit:hit':
        this.limits.add(event.hit as LimitHitEvent, nowMs);
        break;
      case 'backend:health':
        this.applyHealth(event);
        break;
      case 'reload':
        this.message = event.ok
          ? { text: `config reloaded: version ${String(event.version)}`, error: false, at: nowMs }
          : { text: `reload rejected: ${((event.errors as string[] | undefined) ?? []).join('; ')}`, error: true, at: nowMs };
        break;
      case 'warning':
        this.message = { text: String(event.message), error: true, at: nowMs };
        break;
    }
  }

  /** Takes the daemon's `/api/status` and `/api/stats` answers. */
  applyStatus(status: Json, stats: Json | null): void {
    this.revision++;
    const listeners = (status.listeners as { kind: string; host: string; port: number }[] | undefined) ?? [];
    const config = (status.config as Json | undefined) ?? {};
    const connections = (status.connections as Json | undefined) ?? {};
    this.summary = {
      role: String(status.role ?? '?'),
      uptimeSeconds: num(status.uptimeSeconds) ?? 0,
      listeners: listeners.map((l) => `${l.kind} ${l.host}:${l.port}`).join(', '),
      configVersion: String(config.version ?? '?'),
      configSource: String(config.source ?? 'embedded default'),
      connectionsActive: num(connections.active) ?? 0,
      debug: Boolean((status.debug as Json | undefined)?.enabled),
    };
    const active = ((stats?.backends as Record<string, Json> | undefined) ?? {}) as Record<string, Json>;
    const limits = (stats?.limits as Json | undefined) ?? {};
    const perBackend = num(limits.maxConnectionsPerBackend) ?? 0;
    const previous = new Map(this.backends.map((b) => [b.name, b]));
    this.backends = ((status.backends as Json[] | undefined) ?? []).map((b) => ({ ...backendRow(b, active[String(b.name)], previous.get(String(b.name))), limit: perBackend }));
    this.load = stats
      ? {
          active: num(stats.connectionsActive) ?? this.summary.connectionsActive,
          maxConnections: num(limits.maxConnections) ?? 0,
          maxConnectionsPerIp: num(limits.maxConnectionsPerIp) ?? 0,
          busiest: ((stats.busiestClients as { client: string; active: number }[] | undefined) ?? []).filter((c) => typeof c.client === 'string' && num(c.active) !== null),
        }
      : null;
  }

  private applyHealth(event: Json): void {
    const row = this.backends.find((b) => b.name === event.backend);
    if (!row) return;
    row.health = event.healthy ? 'healthy' : 'unhealthy';
    row.latencyMs = num(event.latencyMs) ?? row.latencyMs;
    row.failures = num(event.consecutiveFailures) ?? row.failures;
    if (typeof event.reason === 'string') row.reason = event.reason;
  }
}

/** A backend row from the API's view of it (health fields when health checks report them). */
function backendRow(view: Json, stats: Json | undefined, previous: BackendRow | undefined): Omit<BackendRow, 'limit'> {
  const health = (view.health as Json | undefined) ?? {};
  const connections = (view.connections as Json | undefined) ?? {};
  const status = String(health.status ?? view.status ?? 'unknown');
  return {
    name: String(view.name),
    type: String(view.type),
    health: status === 'healthy' || status === 'unhealthy' || status === 'unavailable' ? status : view.status === 'unavailable' ? 'unavailable' : (previous?.health ?? 'unknown'),
    reason: typeof view.reason === 'string' ? view.reason : typeof health.reason === 'string' ? health.reason : undefined,
    latencyMs: num(health.latencyMs) ?? previous?.latencyMs ?? null,
    failures: num(health.consecutiveFailures) ?? previous?.failures ?? 0,
    uptimePercent: num(health.uptimePercent) ?? previous?.uptimePercent ?? null,
    active: num(stats?.active) ?? 0,
    total: num(connections.total) ?? 0,
    errors: num(connections.errors) ?? 0,
  };
}
