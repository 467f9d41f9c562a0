import { authSettings } from '../auth/auth-settings.js';
import type { ConfigSnapshot } from '../config/model.js';
import { CONNECTION_LIMIT_DEFAULTS } from '../config/schema.js';
import { policySettings } from './policy-settings.js';

/** A limit each engine process enforces on its own: its key, and its value as text for a given multiple. */
interface LocalLimit {
  key: string;
  text(times: number): string;
}

/**
 * The limits of a snapshot that every engine process counts on its own: connection limits set in the file,
 * bandwidth per IP and in total, failed authentication attempts, and (with `state.store:
 * memory`) request rates. With N processes a client, or the whole proxy, may get up to N times
 * as much.
 */
function perProcessLimits(snapshot: ConfigSnapshot): LocalLimit[] {
  const { rateLimiting, state } = policySettings(snapshot);
  const out: LocalLimit[] = [];
  if (rateLimiting.enabled && state.store === 'memory') {
    for (const scope of ['global', 'per_ip', 'per_user'] as const) {
      const bucket = rateLimiting[scope];
      if (bucket) out.push({ key: `rate_limiting.${scope}`, text: (n) => `${times(bucket.requests_per_second, n)} requests/s burst ${times(bucket.burst, n)}` });
    }
  }
  const bandwidth = rateLimiting.enabled && rateLimiting.bandwidth?.enabled ? rateLimiting.bandwidth : null;
  for (const key of ['max_mbps_per_ip', 'max_mbps_total'] as const) {
    const mbps = bandwidth?.[key] ?? 0;
    if (mbps > 0) out.push({ key: `rate_limiting.bandwidth.${key}`, text: (n) => `${times(mbps, n)} Mbit/s` });
  }
  const limits = snapshot.network.limits;
  // The default caps are a safety net, not a promise: a startup warning about them would be noise.
  const connections: [string, number, number][] = [
    ['max_connections', limits.maxConnections, CONNECTION_LIMIT_DEFAULTS.maxConnections],
    ['max_connections_per_ip', limits.maxConnectionsPerIp, CONNECTION_LIMIT_DEFAULTS.maxConnectionsPerIp],
    ['max_connections_per_backend', limits.maxConnectionsPerBackend, 0],
  ];
  for (const [key, value, fallback] of connections) if (value > 0 && value !== fallback) out.push({ key: `network.limits.${key}`, text: (n) => String(times(value, n)) });
  const auth = authSettings(snapshot);
  if (auth.mode !== 'none') {
    const { max, window } = auth.failed_attempts;
    out.push({ key: 'server.auth.failed_attempts.max', text: (n) => `${times(max, n)} per ${window}` });
  }
  return out;
}

/**
 * The startup warning for limits that hold per engine process when `processes` of them run, or
 * null when they are exact (one process, or no such limit).
 */
export function perProcessLimitsWarning(snapshot: ConfigSnapshot, processes: number): string | null {
  if (processes <= 1) return null;
  const limits = perProcessLimits(snapshot);
  if (limits.length === 0) return null;
  const section = snapshot.role === 'server' ? 'server' : 'client';
  const setting = snapshot.workers === 0 ? `${section}.workers: 0, one per core` : `${section}.workers: ${snapshot.workers}`;
  const each = limits.map((l) => `${l.key} ${l.text(1)} (up to ${l.text(processes)})`).join(', ');
  const rates = limits.some((l) => l.key.startsWith('rate_limiting.') && !l.key.startsWith('rate_limiting.bandwidth.'));
  return (
    `these limits hold per engine process and ${processes} run (${setting}), so a client or the whole proxy may get up to ${processes} times as much: ${each}; ` +
    `set ${section}.workers: 1 for exact limits${rates ? ', or state.store: redis to share the request-rate limits' : ''}`
  );
}

/** `value` times `n` without floating-point noise (0.2 × 3 reads 0.6). */
function times(value: number, n: number): number {
  return Number((value * n).toPrecision(12));
}
