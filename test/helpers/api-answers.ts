import type { BackendView } from '../../src/control/answers/backends.js';
import type { StatsAnswer, StatusAnswer } from '../../src/control/answers/daemon.js';

/** The UDP counts of a daemon that relayed none. */
const NO_UDP: StatusAnswer['udp'] = { associationsActive: 0, associationsTotal: 0, flowsActive: 0, datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, dropped: {} };

/** A whole `GET /api/status` answer with what a test names changed (the rest as an idle daemon answers). */
export function statusAnswer(over: Partial<Omit<StatusAnswer, 'config'>> & { config?: Partial<StatusAnswer['config']> } = {}): StatusAnswer {
  const { config, ...rest } = over;
  return {
    role: 'server',
    pid: 1,
    uptimeSeconds: 0,
    startedAt: new Date(0).toISOString(),
    listeners: [],
    metrics: null,
    management: null,
    debug: { enabled: false },
    workers: 1,
    socket: '/run/test.sock',
    connections: { active: 0, total: 0 },
    backends: [],
    tunnels: [],
    reloads: { total: 0, errors: 0 },
    descriptors: { open: 0, limit: 0, exhausted: { accept: 0, dial: 0 } },
    udp: NO_UDP,
    ...rest,
    config: { source: null, version: 'v0', loadedAt: new Date(0).toISOString(), warnings: [], ...config },
  };
}

/** A whole `GET /api/stats` answer with what a test names changed. */
export function statsAnswer(over: Partial<StatsAnswer> = {}): StatsAnswer {
  return {
    startedAt: 0,
    connectionsActive: 0,
    connectionsTotal: 0,
    backends: {},
    busiestClients: [],
    descriptors: { open: 0, limit: 0, exhausted: { accept: 0, dial: 0 } },
    udp: NO_UDP,
    reloads: { total: 0, errors: 0 },
    limits: { maxConnections: 0, maxConnectionsPerIp: 0, maxConnectionsPerBackend: 0 },
    limitHits: {},
    ...over,
  };
}

/** A backend as `GET /api/backends` shows it, with what a test names changed (health unknown, never checked). */
export function backendView(over: Partial<Omit<BackendView, 'health'>> & { name: string; health?: Partial<BackendView['health']> }): BackendView {
  const { health, ...rest } = over;
  return {
    type: 'direct',
    address: null,
    status: 'available',
    connections: { total: 0, errors: 0 },
    ...rest,
    health: { status: 'unknown', checked: false, since: null, latencyMs: null, consecutiveFailures: 0, uptimePercent: null, lastCheck: null, ...health },
  };
}
