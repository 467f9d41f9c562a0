import type { ServerLink } from '../control/answers/daemon.js';
import type { BackendView } from '../control/answers/backends.js';

/** The client's server line: reachable or not, since when, latency, credentials, last error. */
export function serverLine(link: ServerLink): string {
  const since = link.since ? ` since ${link.since}` : '';
  const latency = link.state === 'reachable' && link.latencyMs !== null ? `, ${link.latencyMs} ms` : '';
  const credentials = link.credentials === 'none' ? '' : `, credentials ${link.credentials}`;
  const error = link.lastError ? `; last error ${link.lastError.at}: ${link.lastError.message}` : '';
  const state = link.state === 'unknown' ? 'not checked yet' : link.state === 'refused' ? 'reachable but refusing our credentials' : link.state;
  return `server       ${link.protocol} ${link.address} ${state}${link.state === 'refused' ? '' : since}${latency}${credentials}${error}`;
}

/** A backend's health for a table: passive health (from live traffic only) says so. */
export function healthText(b: BackendView): string {
  return !b.health.checked && b.health.status !== 'unknown' && b.status === 'available' ? `${b.health.status} (traffic)` : b.health.status;
}

/** Why a backend cannot carry traffic (a tunnel's own error line, a missing file) or is unhealthy; empty when neither. */
export function downReason(b: BackendView): string {
  return b.reason ?? (b.health.status === 'unhealthy' ? b.health.reason : undefined) ?? '';
}
