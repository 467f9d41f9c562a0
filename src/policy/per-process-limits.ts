import type { ConfigSnapshot } from '../config/model.js';

/** A limit each engine process enforces on its own: its key, and its value as text for a given multiple. */
interface LocalLimit {
  key: string;
  text(times: number): string;
}

/**
 * The limits of a snapshot that every engine process still counts on its own: the connections
 * per backend (it acts deep in a request, where asking the primary would cost every request a
 * round trip). Everything else is exact on any number of processes: per-client limits, bandwidth
 * and failed logins because the primary leases or counts them, the global request rate and
 * max_connections because the primary counts them.
 */
function perProcessLimits(snapshot: ConfigSnapshot): LocalLimit[] {
  const out: LocalLimit[] = [];
  const perBackend = snapshot.network.limits.maxConnectionsPerBackend;
  if (perBackend > 0) out.push({ key: 'network.limits.max_connections_per_backend', text: (n) => String(times(perBackend, n)) });
  return out;
}

/**
 * The warning (at start and on a reload that sets one) for limits that hold per engine process
 * when `processes` of them run, or null when every limit is exact.
 */
export function perProcessLimitsWarning(snapshot: ConfigSnapshot, processes: number): string | null {
  if (processes <= 1) return null;
  const limits = perProcessLimits(snapshot);
  if (limits.length === 0) return null;
  const section = snapshot.role === 'server' ? 'server' : 'client';
  const setting = snapshot.workers === 0 ? `${section}.workers: 0, one per core` : `${section}.workers: ${snapshot.workers}`;
  const each = limits.map((l) => `${l.key} ${l.text(1)} (up to ${l.text(processes)})`).join(', ');
  return `these limits hold per engine process and ${processes} run (${setting}), so the whole proxy may get up to ${processes} times as much: ${each}; set ${section}.workers: 1 for exact limits`;
}

/** `value` times `n` without floating-point noise (0.2 × 3 reads 0.6). */
function times(value: number, n: number): number {
  return Number((value * n).toPrecision(12));
}
