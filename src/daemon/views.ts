import type { BackendSpec, ConfigSnapshot } from '../config/model.js';
import type { EngineStats } from '../proxy/engine.js';

/** A backend as the API and `backend list` show it (no secrets). */
export interface BackendView {
  name: string;
  type: BackendSpec['type'];
  address: string | null;
  status: 'available' | 'unavailable';
  reason?: string;
  connections: { total: number; errors: number };
}

/** Every backend of a snapshot with its counters. */
export function describeBackends(snapshot: ConfigSnapshot, stats: EngineStats): BackendView[] {
  return snapshot.backends.map((b) => ({
    name: b.name,
    type: b.type,
    address: 'host' in b ? `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}` : 'configFile' in b ? b.configFile : null,
    status: b.unavailable ? 'unavailable' : 'available',
    ...(b.unavailable ? { reason: b.unavailable } : {}),
    connections: { total: stats.backends[b.name]?.total ?? 0, errors: stats.backends[b.name]?.errors ?? 0 },
  }));
}

const SECRET_KEY = /pass(word)?|secret|token|private/i;

/** A deep copy of a config with every secret-looking value replaced by "***". */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  if (SECRET_KEY.test(key) && typeof value === 'string' && value !== '') return '***';
  return value;
}
