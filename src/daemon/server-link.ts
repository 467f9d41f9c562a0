import type { ConfigSnapshot } from '../config/model.js';
import type { BackendView } from '../control/answers/backends.js';
import type { ServerLink } from '../control/answers/daemon.js';

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
