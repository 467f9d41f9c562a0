import type { Target } from '../backends/backend.js';
import type { BackendSpec, ConfigSnapshot } from '../config/model.js';
import { BUILT_IN_CHECK_DEFAULTS, type HealthCheckDefaults } from '../config/check-defaults.js';
import { parseDuration, parseHostPort } from '../config/value-parsers.js';

/** Where a check goes when the backend names no `target:` (the same default as `backend test`). */
export const DEFAULT_PROBE_TARGET: Target = { host: 'example.com', port: 80 };

/**
 * Passive health of a backend without active checks: this many failed connections in a row mark
 * it unhealthy, and the mark holds this long (a balanced rule skips it meanwhile) unless a
 * connection through it succeeds first.
 */
export const PASSIVE = { unhealthyThreshold: 3, holdMs: 30_000 } as const;

/**
 * The light check the client role's `server` backend gets: a connection to the server itself
 * (with TLS, or the SOCKS5 greeting; never a login, which would fill the server's log and feed
 * its failed-login limits), so a stopped server shows as down within seconds, with no request to
 * any target. Advisory: the client keeps sending to its only server whatever the check says.
 */
const SERVER_HOP_CHECK = { type: 'hop', interval: '15s', timeout: '5s', healthy_threshold: 1, unhealthy_threshold: 2 } as const;

/** One backend's active check, with the global defaults (`health_checks.defaults`) filled in. */
export interface CheckSettings {
  /** `hop`: the client's light check of its server (a connection to the server itself). */
  type: 'tcp' | 'http' | 'ping' | 'hop';
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** tcp: what to connect to through the backend; ping: the host to ping. */
  target: Target;
  /** http: the URL fetched through the backend and the status it must answer with. */
  http?: { url: string; expectedStatus: number };
  /** The check only informs status and metrics: a rule whose only backend this is still sends to it. */
  advisory?: true;
}

/** The `health_check:` section of a backend as the schema produced it. */
interface BackendCheckSection {
  enabled?: boolean;
  interval?: string;
  timeout?: string;
  type?: 'tcp' | 'http' | 'ping' | 'hop';
  healthy_threshold?: number;
  unhealthy_threshold?: number;
  target?: string;
  http?: { url: string; expected_status?: number };
}

/**
 * The active checks a snapshot asks for, by backend name. A backend is checked when its own
 * `health_check:` is enabled, or, when a global `health_checks:` section exists, unless its own
 * section says `enabled: false`. Pure: every worker process derives the same answer.
 */
export function checkSettings(config: ConfigSnapshot): Map<string, CheckSettings> {
  const defaults = config.healthChecks;
  const checks = new Map<string, CheckSettings>();
  for (const backend of config.backends) {
    const own = backend.healthCheck as BackendCheckSection | undefined;
    if (!own && backend.type === 'server') {
      checks.set(backend.name, { ...settingsFor(backend, { ...SERVER_HOP_CHECK }, BUILT_IN_CHECK_DEFAULTS), advisory: true });
      continue;
    }
    if (own ? own.enabled === false : defaults === null) continue;
    checks.set(backend.name, settingsFor(backend, own ?? {}, defaults ?? BUILT_IN_CHECK_DEFAULTS));
  }
  return checks;
}

function settingsFor(backend: BackendSpec, own: BackendCheckSection, defaults: HealthCheckDefaults): CheckSettings {
  const type = own.type ?? 'tcp';
  const http = type === 'http' && own.http ? { url: own.http.url, expectedStatus: own.http.expected_status ?? 200 } : undefined;
  const written = own.target ? parseHostPort(own.target) : null;
  let target = written ?? DEFAULT_PROBE_TARGET;
  if (!written && http) {
    const url = new URL(http.url);
    target = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
  }
  // ICMP cannot travel through a proxy: the nearest network-level check of that hop is its host.
  if (type === 'ping' && !written && 'host' in backend) target = { host: backend.host, port: 0 };
  if (type === 'hop' && 'host' in backend) target = { host: backend.host, port: backend.port };
  return {
    type,
    intervalMs: parseDuration(own.interval ?? defaults.interval)!,
    timeoutMs: parseDuration(own.timeout ?? defaults.timeout)!,
    healthyThreshold: own.healthy_threshold ?? defaults.healthy_threshold,
    unhealthyThreshold: own.unhealthy_threshold ?? defaults.unhealthy_threshold,
    target,
    ...(http ? { http } : {}),
  };
}
