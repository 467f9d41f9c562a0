import type { ConfigSnapshot } from '../config/model.js';
import type { BackendHealth } from '../health/health-state.js';
import type { EngineStats } from '../engine/engine-api.js';
import type { BackendView, HealthAnswer } from '../control/answers/backends.js';

/** The `GET /api/backends/:name/health` answer for one backend. */
export function healthAnswer(health: BackendHealth): HealthAnswer {
  return {
    name: health.name,
    status: health.status,
    last_check: health.lastCheck === null ? null : new Date(health.lastCheck).toISOString(),
    latency_ms: health.latencyMs,
    consecutive_failures: health.consecutiveFailures,
    uptime_percent: health.uptimePercent,
    ...(health.reason !== undefined && health.status !== 'healthy' ? { reason: health.reason } : {}),
  };
}

/** Every backend of a snapshot with its counters and health (unknown when none is known). */
export function describeBackends(snapshot: ConfigSnapshot, stats: Pick<EngineStats, 'backends'>, health: Record<string, BackendHealth> = {}): BackendView[] {
  return snapshot.backends.map((b) => ({
    name: b.name,
    type: b.type,
    address: 'host' in b ? `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}` : 'configFile' in b ? b.configFile : null,
    status: b.unavailable ? 'unavailable' : 'available',
    ...(b.unavailable ? { reason: b.unavailable } : {}),
    connections: { total: stats.backends[b.name]?.total ?? 0, errors: stats.backends[b.name]?.errors ?? 0 },
    health: {
      status: health[b.name]?.status ?? (b.unavailable ? 'unhealthy' : 'unknown'),
      checked: health[b.name]?.checked ?? false,
      since: health[b.name]?.since ?? null,
      latencyMs: health[b.name]?.latencyMs ?? null,
      consecutiveFailures: health[b.name]?.consecutiveFailures ?? 0,
      uptimePercent: health[b.name]?.uptimePercent ?? null,
      lastCheck: health[b.name]?.lastCheck ?? null,
      // Why it is unhealthy, or why its last check failed: what a person looks at first.
      ...(health[b.name]?.reason !== undefined && health[b.name]?.status !== 'healthy' ? { reason: health[b.name]!.reason } : {}),
      ...(health[b.name]?.lastError ? { lastError: health[b.name]!.lastError } : {}),
      ...(health[b.name]?.credentials ? { credentials: health[b.name]!.credentials } : {}),
    },
  }));
}

const SECRET_KEY = /pass(word)?|secret|token|private/i;

/** A deep copy of a config with every secret-looking value replaced by "***" (same shape, so same type). */
export function maskSecrets<T>(value: T, key = ''): T {
  return masked(value, key) as T;
}

function masked(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => masked(v, ''));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k)]));
  if (SECRET_KEY.test(key) && typeof value === 'string' && value !== '') return '***';
  return value;
}
