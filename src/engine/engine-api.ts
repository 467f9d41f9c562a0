import type { EventEmitter } from 'node:events';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { AttemptLeases } from '../auth/attempt-leases.js';
import type { AuthClientView } from '../auth/client-registry.js';
import type { Target } from '../backends/backend.js';
import type { ConfigSnapshot } from '../config/model.js';
import type { ReplayOutcome, ReplayPlan } from '../debug/replay.js';
import type { DebugAnswer, DebugRequest, TrafficEvent } from '../debug/debug-request.js';
import type { LiveCheck } from '../health/health-checker.js';
import type { HealthSource } from '../health/health-source.js';
import type { PrimaryStore } from '../limits/primary-store.js';
import type { BackendHealth, BackendHealthEvent } from '../health/health-state.js';
import type { LimitHit } from '../policy/limit-hit.js';
import type { ConnectionRecord, UdpDropReason } from '../protocol/connection-record.js';
import type { ConnectionFilter } from '../protocol/connection-filter.js';
import type { RouteExplanation, RouteQuestion } from '../routing/route-explanation.js';
import type { RuleSetStatus, RuleSetTest } from '../routing/rule-set-store.js';
import type { SlotLeases } from '../policy/slot-leases.js';
import type { ByteLeases } from '../limits/byte-leases.js';

/*
 * What the daemon, the control server, the debugger and the CLI know of an engine: its interface,
 * events and counters. The implementations (src/proxy) are known to the daemon only.
 */

/** A listener the engine has bound. */
export interface BoundListener {
  kind: 'http' | 'socks5';
  host: string;
  port: number;
  tls: boolean;
}

/** Counters the engine keeps in place (cheap to read at any time). */
export interface EngineStats {
  startedAt: number;
  connectionsActive: number;
  connectionsTotal: number;
  backends: Record<string, { active: number; total: number; errors: number }>;
  /** Client IPs with the most open connections (counted while max_connections_per_ip applies), most first. */
  busiestClients: { client: string; active: number }[];
  /** File descriptors of the engine process nearest its limit, and refusals for want of them over all processes. */
  descriptors: DescriptorView;
  /** The SOCKS5 UDP relay (summed over engine processes). */
  udp: UdpCounts;
}

/** What one engine process's UDP relay carried since start, open associations included (`status`, metrics). */
export interface UdpCounts {
  associationsActive: number;
  associationsTotal: number;
  flowsActive: number;
  datagramsIn: number;
  datagramsOut: number;
  /** Payload bytes from clients (in) and back to them (out). */
  bytesIn: number;
  bytesOut: number;
  /** Datagrams dropped, by reason. */
  dropped: Partial<Record<UdpDropReason, number>>;
}

/** Where a want of file descriptors turned work away: accepting a client, or dialling its target. */
export type ExhaustedDuring = 'accept' | 'dial';

/** What `status` and the dashboard show of one engine process's file descriptors. */
export interface DescriptorView {
  /** Open descriptors at the last sample (every 2 s), and the soft limit. */
  open: number;
  limit: number;
  /** Connections refused for want of descriptors since start: accepts lost, dials failed with EMFILE or ENFILE. */
  exhausted: Record<ExhaustedDuring, number>;
}

/** What a reload did. */
export interface ReloadReport {
  version: string;
  previousVersion: string;
  /** Settings that changed but only take effect after a restart (ports, bind address, TLS, auth mode). */
  restartRequired: string[];
}

/** Events the engine publishes. */
export interface EngineEvents {
  /** A request or tunnel was routed to its backend (debugger REQ line); refusals before routing have no start. */
  'connection:start': [ConnectionRecord];
  /** A request or tunnel ended (access log, metrics, debugger RES line). */
  'connection:end': [ConnectionRecord];
  /** Something a person should know (listener error, backend unavailable). */
  warning: [string];
  /** The traffic policy refused a client or request (rate limit, connection limit, IP lists, open-relay guard). */
  'limit:hit': [LimitHit];
  /** The traffic debugger recorded a request or its end (masked). */
  traffic: [TrafficEvent];
  /** Bytes (both ways) moved in the last second by open connections and those that just ended; emitted once a second by each engine process, only while something listens and only when non-zero. */
  throughput: [number];
  /** A backend became healthy or unhealthy (active or passive checks). */
  'backend:health': [BackendHealthEvent];
  /** A client refused the interception certificate for a host (engine workers tell each other, so that all count it). */
  'mitm:rejected': [host: string, why: string];
}

/** What the daemon drives: one in-process engine, or the same spread over worker processes. */
export interface Engine extends EventEmitter<EngineEvents> {
  /** The config snapshot new connections use. */
  readonly snapshot: ConfigSnapshot;
  /** Binds every listener; rejects (and binds none) if any cannot be bound. */
  start(): Promise<BoundListener[]>;
  /** Listeners currently bound. */
  boundListeners(): BoundListener[];
  /** Swaps in a new snapshot atomically; open connections keep the one they started with. */
  reload(next: ConfigSnapshot): Promise<ReloadReport>;
  /** Stops accepting, drains open connections up to drainMs, destroys the rest. */
  stop(options?: { drainMs?: number; forceMs?: number }): Promise<{ drained: number; forced: number }>;
  /** Live counters. */
  stats(): Promise<EngineStats>;
  /** Runs one check through a backend now (its configured check, or tcp to `target`) and reports how long it took. */
  testBackend(name: string, target?: Target): Promise<LiveCheck>;
  /** Runs a backend's health check now rather than at its next interval. */
  recheck(name: string): void;
  /** Which rule and backend a host would take now (for this client and user), and which later rules also match. */
  explainRoute(host: string | undefined, question?: RouteQuestion): RouteExplanation;
  /** The rule sets as loaded now. */
  ruleSetStatuses(): RuleSetStatus[];
  /** Whether a rule set matches a host now, and by which entry (null: no such set). */
  testRuleSet(name: string, host: string): RuleSetTest | null;
  /** Asks the traffic debugger of every engine process; one answer per process. */
  debug<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>[]>;
  /** Sends a recorded request again through the named backend (`debug replay`). */
  replay(plan: ReplayPlan, backend: string): Promise<ReplayOutcome>;
  /** The proxy metrics of every engine process, one `getMetricsAsJSON()` list per process. */
  metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[][]>;
  /** Every backend's health now (as `GET /api/backends/:name/health` answers), by name. */
  health(): Record<string, BackendHealth>;
  /** Authenticated clients of every engine process, one list per process. */
  authClients(): Promise<AuthClientView[][]>;
  /** The tunnels and requests open now in every engine process (no headers or bodies). */
  openConnections(): Promise<ConnectionRecord[]>;
  /** Closes the open tunnels and requests that match (an id, a backend, a client address); how many were closed. */
  closeConnections(filter: ConnectionFilter): Promise<number>;
  /** Resolves once every engine process emits the events that have listeners now, so a live stream misses nothing (absent: at once). */
  eventsReady?(): Promise<void>;
}

/** Engine options that are not part of the config file. */
export interface EngineOptions {
  /** Export this process's CPU, memory and event-loop metrics with the proxy metrics (worker processes). */
  processMetrics?: boolean;
  /** Backend health from elsewhere (an engine worker's primary); without it the engine runs its own checks. */
  health?: HealthSource;
  /** The cluster primary's request-rate buckets (an engine worker), for limits that span clients. */
  sharedLimits?: PrimaryStore;
  /** Called when a client connection is admitted or closes (an engine worker reports its load). */
  onClients?: () => void;
  /** max_connections_per_ip leased from the cluster primary (an engine worker accepting on shared sockets). */
  slotLeases?: SlotLeases;
  /** Failed logins counted in the cluster primary (an engine worker accepting on shared sockets). */
  attemptLeases?: AttemptLeases;
  /** max_mbps_per_ip and max_mbps_total leased from the cluster primary (an engine worker accepting on shared sockets). */
  byteLeases?: ByteLeases;
}
