import type { ConfigSnapshot } from '../config/model.js';
import type { BackendView } from './views.js';

/** The client role's connection to its server, as `status` shows it. */
export interface ServerLink {
  address: string;
  protocol: 'http' | 'https' | 'socks5';
  /** From the light check and live traffic; refused: it answers but refuses the credentials; unknown before either said anything. */
  state: 'reachable' | 'unreachable' | 'refused' | 'unknown';
  /** Since when the state holds (ISO time), or null while unknown. */
  since: string | null;
  /** How long the last successful check took. */
  latencyMs: number | null;
  lastError: { at: string; message: string } | null;
  /** From live traffic (the light check never logs in): none configured, accepted, refused, or unverified before any connection through the server. */
  credentials: 'none' | 'accepted' | 'refused' | 'unverified';
}

/** The client's server connection, from the `server` backend's health and counters; null in the server role or without a server. */
export function serverLink(snapshot: ConfigSnapshot, backends: BackendView[]): ServerLink | null {
  const spec = snapshot.backends.find((b) => b.type === 'server');
  const view = backends.find((b) => b.name === spec?.name);
  if (!spec || spec.type !== 'server' || !view) return null;
  const { health } = view;
  const refused = health.credentials === 'refused' && spec.auth !== undefined;
  const state = refused ? 'refused' : health.status === 'healthy' ? 'reachable' : health.status === 'unhealthy' ? 'unreachable' : 'unknown';
  return {
    address: view.address ?? `${spec.host}:${spec.port}`,
    protocol: spec.protocol,
    state,
    since: health.since === null ? null : new Date(health.since).toISOString(),
    latencyMs: health.latencyMs,
    lastError: health.lastError ? { at: new Date(health.lastError.at).toISOString(), message: health.lastError.message } : null,
    credentials: spec.auth ? (health.credentials ?? 'unverified') : 'none',
  };
}
