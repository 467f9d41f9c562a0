import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ConfigSnapshot, ListenerSpec } from '../config/model.js';
import { restartRequired } from '../config/diff.js';
import { retiredBackends } from './reload-drain.js';
import { readTlsMaterial } from './tls-material.js';
import type { Target } from '../backends/backend.js';
import { DialError } from '../errors.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { ProxyMetrics } from '../telemetry/proxy-metrics.js';
import type { CaptureSettings, ConnectionRecord } from './connection-record.js';
import type { LimitHit } from '../policy/limit-hit.js';
import { Policy, PolicyState } from '../policy/policy.js';
import { busiest } from '../policy/busiest-clients.js';
import { HealthChecker, type LiveCheck } from '../health/health-checker.js';
import type { HealthSource } from '../health/health-source.js';
import type { BackendHealth, BackendHealthEvent } from '../health/health-state.js';
import { AuthService, AuthState } from '../auth/auth-service.js';
import type { DebugAnswer, DebugRequest, TrafficEvent } from '../debug/debug-request.js';
import { TrafficRecorder } from '../debug/traffic-recorder.js';
import type { AuthClientView } from '../auth/client-registry.js';
import { handleConnect } from './connect-handler.js';
import { CredentialWarnings } from './credential-warnings.js';
import { forwardHttpRequest, sendError } from './http-forward.js';
import type { ProxyContext, RecordStart } from './proxy-context.js';
import { rawHttpError } from './refusals.js';
import { Runtime } from './runtime.js';
import { explainRoute, type RouteExplanation, type RouteQuestion } from '../routing/route-explanation.js';
import { handleSocks5 } from './socks5-handler.js';
import { refuseSocks5 } from './socks5-refusal.js';
import { handleUpgrade } from './upgrade-handler.js';
import { viaToken } from './via-token.js';
import { UdpHub } from '../udp/udp-hub.js';

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
  /** A backend became healthy or unhealthy (active or passive checks). */
  'backend:health': [BackendHealthEvent];
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
  explainRoute(host: string, question?: RouteQuestion): RouteExplanation;
  /** Asks the traffic debugger of every engine process; one answer per process. */
  debug<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>[]>;
  /** The proxy metrics of every engine process, one `getMetricsAsJSON()` list per process. */
  metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[][]>;
  /** Every backend's health now (spec 11.5), by name. */
  health(): Record<string, BackendHealth>;
  /** Authenticated clients of every engine process, one list per process. */
  authClients(): Promise<AuthClientView[][]>;
}

/** Engine options that are not part of the config file. */
export interface EngineOptions {
  /** Export this process's CPU, memory and event-loop metrics with the proxy metrics (worker processes). */
  processMetrics?: boolean;
  /** Backend health from elsewhere (an engine worker's primary); without it the engine runs its own checks. */
  health?: HealthSource;
}

interface Listening {
  spec: ListenerSpec;
  server: NetServer | HttpServer;
  bound: BoundListener;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a SOCKS5 client refused by a connection limit may take to read its answer. */
const REFUSAL_TIMEOUT_MS = 5_000;
/** SOCKS5 clients being refused at once; beyond that a refused connection is simply closed. */
const MAX_REFUSING = 256;

/** The proxy engine: listeners, routing snapshot, backends and live connections. */
export class ProxyEngine extends EventEmitter<EngineEvents> implements Engine {
  private current: Runtime;
  private readonly listening: Listening[] = [];
  private readonly clients = new Set<Socket>();
  private readonly open = new Set<ConnectionRecord>();
  private metrics: ProxyMetrics | null = null;
  private captureSettings: CaptureSettings | null = null;
  private readonly refusing = new Set<Socket>();
  /** Tunnels' upstream sockets, with the record of the tunnel each carries. */
  private readonly upstreams = new Map<Socket, ConnectionRecord>();
  /** Aborts of plain-HTTP requests being forwarded, by record (a reload that retires their backend ends them). */
  private readonly requests = new Map<ConnectionRecord, (error: Error) => void>();
  /** Pending closes of connections through backends a reload retired. */
  private readonly retiring = new Set<NodeJS.Timeout>();
  private readonly backendStats = new Map<string, { active: number; total: number; errors: number }>();
  private readonly startedAt = Date.now();
  private connectionsTotal = 0;
  private isDraining = false;
  private ownAddresses = new Set<string>();
  private ownPorts = new Set<number>();
  private readonly idPrefix = randomBytes(3).toString('hex');
  private nextId = 0;
  private readonly context: ProxyContext;
  private readonly policyState: PolicyState;
  private policy: Policy;
  private readonly checker: HealthChecker | null;
  private readonly healthSource: HealthSource;
  private readonly authState: AuthState;
  private gate: AuthService | null;
  private readonly recorder: TrafficRecorder;
  private readonly credentialWarnings = new CredentialWarnings((message) => this.emit('warning', message));
  private readonly udp = new UdpHub(() => this.liveMetrics());

  constructor(
    snapshot: ConfigSnapshot,
    private readonly options: EngineOptions = {},
  ) {
    super();
    this.checker = options.health ? null : new HealthChecker();
    this.checker?.on('change', (event) => this.emit('backend:health', event));
    this.healthSource = options.health ?? this.checker!;
    this.current = Runtime.build(snapshot, { guard: (socket, target) => this.guard(socket, target), health: this.healthSource }).runtime;
    this.checker?.sync(snapshot, this.current.backends);
    const hit = (limitHit: LimitHit): void => {
      this.liveMetrics()?.limitHit(limitHit.scope);
      this.emit('limit:hit', limitHit);
    };
    this.policyState = new PolicyState({ hit, warn: (message) => this.emit('warning', message) });
    this.policy = new Policy(snapshot, this.policyState);
    this.authState = new AuthState({ hit, warn: (message) => this.emit('warning', message) });
    this.gate = AuthService.build(snapshot, this.authState);
    this.recorder = new TrafficRecorder(this, {
      capture: (settings) => (this.captureSettings = settings),
      publish: (event) => this.emit('traffic', event),
      warn: (message) => this.emit('warning', message),
    });
    this.context = {
      runtime: () => this.current,
      begin: (fields) => this.begin(fields),
      routed: (record, backend) => {
        record.backend = backend;
        this.emit('connection:start', record);
      },
      end: (record) => this.finish(record),
      track: (socket, record) => this.trackUpstream(socket, record),
      cancellable: (record, abort) => {
        if (record.durationMs === undefined) this.requests.set(record, abort);
      },
      draining: () => this.isDraining,
      capture: () => this.captureSettings,
      policy: () => this.policy,
      auth: () => this.gate,
      credentialsRefused: (name, message) => this.credentialWarnings.refused(name, this.current.config.backends.find((b) => b.name === name), message),
      viaToken: viaToken(snapshot.role, snapshot.listeners),
      udp: this.udp,
    };
  }

  /** The config snapshot new connections use. */
  get snapshot(): ConfigSnapshot {
    return this.current.config;
  }

  /** Binds every listener; rejects (and binds none) if any cannot be bound. */
  async start(): Promise<BoundListener[]> {
    try {
      for (const spec of this.current.config.listeners) {
        const server = this.createListener(spec);
        const bound = await listen(server, spec);
        this.listening.push({ spec, server, bound });
      }
    } catch (error) {
      await Promise.all(this.listening.splice(0).map((l) => closeServer(l.server)));
      throw error;
    }
    this.refreshOwnAddresses();
    // Ports given as 0 are known now: the token names the addresses actually served.
    this.context.viaToken = viaToken(this.current.config.role, this.boundListeners());
    this.startHealthChecks();
    return this.boundListeners();
  }

  /** Starts the active health checks (start() does; a clustered engine's primary calls it without listeners). */
  startHealthChecks(): void {
    this.checker?.start();
  }

  /** Listeners currently bound. */
  boundListeners(): BoundListener[] {
    return this.listening.map((l) => l.bound);
  }

  /** Swaps in a new snapshot atomically; open connections keep the one they started with. */
  async reload(next: ConfigSnapshot): Promise<ReloadReport> {
    // Read before anything changes: a certificate that cannot be served refuses the whole reload.
    const certificates = this.listening.flatMap((l) => {
      const spec = next.listeners.find((n) => n.kind === l.spec.kind && n.host === l.spec.host && n.port === l.spec.port);
      return l.spec.tls && spec?.tls ? [{ listening: l, spec, material: readTlsMaterial(spec.tls) }] : [];
    });
    const previous = this.current;
    const { runtime, retired } = Runtime.build(next, { guard: (socket, target) => this.guard(socket, target), health: this.healthSource }, previous);
    this.current = runtime;
    this.policy = new Policy(next, this.policyState);
    this.checker?.sync(next, runtime.backends);
    this.gate = AuthService.build(next, this.authState, this.gate);
    // Retired backends only lose their idle pools; tunnels already open through them go on for now.
    for (const backend of retired) void backend.close();
    this.closeRetiredLater(retiredBackends(previous.config, next), next.reload.drainTimeoutMs);
    // Each new connection's parser takes the server's limit: a changed max_header_size applies from the next one.
    for (const l of this.listening) if (l.spec.kind === 'http') (l.server as HttpServer & { maxHeaderSize: number }).maxHeaderSize = next.network.maxHeaderSize;
    // A renewed certificate (same path or a new one) serves new handshakes; open connections keep theirs.
    for (const { listening, spec, material } of certificates) {
      (listening.server as HttpsServer).setSecureContext(material);
      listening.spec = spec;
    }
    return { version: next.version, previousVersion: previous.config.version, restartRequired: restartRequired(previous.config, next) };
  }

  /** Stops accepting, drains open connections up to drainMs, destroys the rest at forceMs. */
  async stop(options: { drainMs?: number; forceMs?: number } = {}): Promise<{ drained: number; forced: number }> {
    const drainMs = options.drainMs ?? this.current.config.shutdown.drainTimeoutMs;
    this.isDraining = true;
    for (const timer of this.retiring) clearTimeout(timer);
    this.checker?.stop();
    const closing = this.listening.splice(0).map((l) => {
      const done = closeServer(l.server);
      if ('closeIdleConnections' in l.server) l.server.closeIdleConnections();
      return { server: l.server, done };
    });
    const before = this.clients.size;
    const deadline = Date.now() + drainMs;
    while (this.clients.size > 0 && Date.now() < deadline) {
      for (const { server } of closing) if ('closeIdleConnections' in server) server.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    const forced = this.clients.size;
    this.udp.closeAll('stopped');
    for (const socket of [...this.clients, ...this.upstreams.keys(), ...this.refusing]) socket.destroy();
    await Promise.all(closing.map((c) => c.done));
    await Promise.all([...this.current.backends.values()].map((b) => b.close()));
    await this.policyState.close();
    await this.gate?.close();
    await this.recorder.close();
    return { drained: before - forced, forced };
  }

  /** Live counters. */
  async stats(): Promise<EngineStats> {
    return {
      startedAt: this.startedAt,
      connectionsActive: this.clients.size,
      connectionsTotal: this.connectionsTotal,
      backends: this.backendCounters(),
      busiestClients: busiest(this.policyState.perIp),
    };
  }

  /** Runs one check through a backend now (its configured check, or tcp to `target`) and reports how long it took. */
  async testBackend(name: string, target?: Target): Promise<LiveCheck> {
    const backend = this.current.backends.get(name);
    if (!backend) throw new DialError('unavailable', `no backend named "${name}"`);
    return (this.checker ?? new HealthChecker()).check(backend, this.current.config.network.timeouts.connectMs, target);
  }

  /** Every backend's health now (spec 11.5), by name. */
  health(): Record<string, BackendHealth> {
    return this.checker?.health() ?? {};
  }

  /** Runs a backend's health check now rather than at its next interval. */
  recheck(name: string): void {
    this.checker?.checkNow(name);
  }

  /** A live connection's outcome reported by an engine worker (passive check). */
  reportTraffic(name: string, ok: boolean, error?: string): void {
    this.healthSource.report(name, ok, error);
  }

  /** Which rule and backend a host would take now (live health and balancing state), and which rules matched but were shadowed by an earlier one. */
  explainRoute(host: string, question: RouteQuestion = {}): RouteExplanation {
    const runtime = this.current;
    return explainRoute(runtime.config, runtime.router, host, (index, client) => runtime.preview(index, client), question);
  }

  /** Asks this process's traffic debugger. */
  async debug<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>[]> {
    return [await this.recorder.answer(request)];
  }

  /** This process's proxy metrics (empty until metrics are enabled in the config). */
  async metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
    const metrics = this.liveMetrics();
    return metrics ? [await metrics.registry.getMetricsAsJSON()] : [];
  }

  /** The users authenticated by this process, with their connections open now. */
  async authClients(): Promise<AuthClientView[][]> {
    const open = new Map<string, number>();
    for (const record of this.open) if (record.user !== undefined) open.set(record.user, (open.get(record.user) ?? 0) + 1);
    return [this.authState.clients.list(open)];
  }

  /** The authentication of new connections (null when auth is off), for its counters. */
  get auth(): AuthService | null {
    return this.gate;
  }

  /** The proxy metrics while the config enables them (created on first use: an unmetered proxy pays nothing). */
  private liveMetrics(): ProxyMetrics | null {
    if (!this.current.config.metrics) return null;
    this.metrics ??= new ProxyMetrics(() => this.activeByBackend(), this.options.processMetrics === true, () => this.policyState.shared, () => ({ associations: this.udp.active, flows: this.udp.flowCount }));
    return this.metrics;
  }

  /** Per-backend counters with the open connections filled in. */
  private backendCounters(): EngineStats['backends'] {
    const out: EngineStats['backends'] = {};
    for (const [name, stats] of this.backendStats) out[name] = { ...stats, active: 0 };
    for (const [name, active] of this.activeByBackend()) (out[name] ??= { active: 0, total: 0, errors: 0 }).active = active;
    return out;
  }

  /** Open connections by backend (for the active-connections gauge). */
  private activeByBackend(): Map<string, number> {
    // Every configured backend appears, idle ones with 0, so dashboards see a series from the start.
    const counts = new Map<string, number>(this.current.config.backends.map((b) => [b.name, 0]));
    for (const record of this.open) if (record.backend !== undefined) counts.set(record.backend, (counts.get(record.backend) ?? 0) + 1);
    return counts;
  }

  private createListener(spec: ListenerSpec): NetServer | HttpServer {
    const network = this.current.config.network;
    if (spec.kind === 'socks5') {
      const server = createNetServer({ allowHalfOpen: true, noDelay: true, keepAlive: network.keepalive.enabled, keepAliveInitialDelay: network.keepalive.intervalMs }, (socket) => {
        if (!this.policy.allowsClient(socket.remoteAddress ?? '', 'socks5')) return socket.destroy();
        if (!this.admit(socket, 'socks5')) return this.refuseSocks5(socket);
        handleSocks5(this.context, socket, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
      });
      return server;
    }
    const httpOptions = {
      noDelay: true,
      keepAlive: network.keepalive.enabled,
      keepAliveInitialDelay: network.keepalive.intervalMs,
      keepAliveTimeout: network.timeouts.idleMs,
      // Uploads and downloads may take long; the idle timeout below bounds silence instead.
      requestTimeout: 0,
      headersTimeout: HANDSHAKE_TIMEOUT_MS,
      maxHeaderSize: network.maxHeaderSize,
    };
    const server = spec.tls
      ? createHttpsServer({ ...httpOptions, ...readTlsMaterial(spec.tls) })
      : createHttpServer(httpOptions);
    server.timeout = network.timeouts.idleMs;
    // The IP lists act on the raw connection, before TLS or HTTP parsing.
    server.on('connection', (socket: Socket) => {
      if (!this.policy.allowsClient(socket.remoteAddress ?? '', 'http')) socket.destroy();
    });
    server.on(spec.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (socket.destroyed) return;
      // As on the plain listener: a tunnel client's half-close must not close the way back.
      socket.allowHalfOpen = true;
      if (!this.admit(socket, 'http')) socket.end(rawHttpError(503, 'Service Unavailable', 'too many connections', 'connection_limit_reached'));
    });
    server.on('request', (req, res) => {
      try {
        forwardHttpRequest(this.context, req, res);
      } catch (error) {
        sendError(res, null, 500, `internal error: ${(error as Error).message}`);
      }
    });
    server.on('connect', (req, socket: Socket, head: Buffer) => handleConnect(this.context, req, socket, head));
    server.on('upgrade', (req, socket: Socket, head: Buffer) => handleUpgrade(this.context, req, socket, head));
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable || (error.code === 'ECONNRESET' && socket.bytesRead === 0)) return socket.destroy();
      if (error.code === 'HPE_HEADER_OVERFLOW') {
        const limit = this.current.config.network.maxHeaderSize;
        return void socket.end(rawHttpError(431, 'Request Header Fields Too Large', `request header fields larger than network.max_header_size (${limit} bytes)`, 'http_request_error'));
      }
      const [status, text] = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
      socket.end(rawHttpError(status, text, `malformed request (${error.code ?? 'parse error'})`));
    });
    return server;
  }

  /** Counts a new client connection; false when a connection limit (total or per IP) is reached. */
  private admit(socket: Socket, protocol: 'http' | 'socks5'): boolean {
    const max = this.current.config.network.limits.maxConnections;
    if (this.clients.size >= max) {
      this.policy.refusedByConnectionLimit(socket.remoteAddress ?? '', protocol, max);
      return false;
    }
    if (!this.policy.admitClient(socket, protocol)) return false;
    this.clients.add(socket);
    this.connectionsTotal++;
    socket.once('close', () => this.clients.delete(socket));
    return true;
  }

  /** Tells a SOCKS5 client over a connection limit so (reply 0x02), within bounds of time and number. */
  private refuseSocks5(socket: Socket): void {
    if (this.refusing.size >= MAX_REFUSING) return void socket.destroy();
    this.refusing.add(socket);
    socket.once('close', () => this.refusing.delete(socket));
    refuseSocks5(socket, REFUSAL_TIMEOUT_MS);
  }

  private trackUpstream(socket: Socket, record: ConnectionRecord): void {
    this.upstreams.set(socket, record);
    socket.once('close', () => this.upstreams.delete(socket));
  }

  /**
   * Spec 13.3: connections open through backends a reload removed or redefined finish on the old
   * config for up to reload.drain_timeout; tunnels and plain-HTTP requests still open then are
   * closed. Connections through kept backends go on as long as they like.
   */
  private closeRetiredLater(names: Set<string>, drainMs: number): void {
    const leaving = new Set([...this.open].filter((record) => record.backend !== undefined && names.has(record.backend)));
    if (leaving.size === 0) return;
    const timer = setTimeout(() => {
      this.retiring.delete(timer);
      const removed = (): Error => Object.assign(new Error('its backend was removed or changed by a reload'), { code: 'backend-removed' });
      const tunnels = [...this.upstreams].filter(([, record]) => leaving.has(record));
      // An error (not a plain destroy) makes the relay close the client side too, and names the reason in the record.
      for (const [socket] of tunnels) socket.destroy(removed());
      const requests = [...this.requests].filter(([record]) => leaving.has(record));
      // A response under way ends with its client connection closed; one not started yet is a 502 naming the reason.
      for (const [, abort] of requests) abort(removed());
      const closed = [...tunnels.map(([, record]) => record), ...requests.map(([record]) => record)];
      if (closed.length === 0) return;
      const backends = [...new Set(closed.map((record) => record.backend))].join(', ');
      const what = [count(tunnels.length, 'tunnel'), count(requests.length, 'HTTP request')].filter(Boolean).join(' and ');
      this.emit('warning', `closed ${what} through ${backends}, removed or changed by a reload, after reload.drain_timeout (${drainMs} ms)`);
    }, drainMs);
    timer.unref();
    this.retiring.add(timer);
  }

  private begin(fields: RecordStart): ConnectionRecord {
    // Every field is present from the start so records keep one hidden class (no shape migrations per connection).
    const record: ConnectionRecord = {
      id: `${this.idPrefix}${(this.nextId++).toString(36)}`,
      startedAt: Date.now(),
      protocol: fields.protocol,
      clientAddress: fields.clientAddress,
      clientPort: fields.clientPort,
      user: fields.user,
      method: fields.method,
      host: fields.host,
      port: fields.port,
      path: fields.path,
      userAgent: fields.userAgent,
      referer: fields.referer,
      rule: undefined,
      backend: undefined,
      status: undefined,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: undefined,
      error: undefined,
      udp: undefined,
      requestHeaders: undefined,
      responseHeaders: undefined,
      requestBody: undefined,
      responseBody: undefined,
    };
    this.open.add(record);
    return record;
  }

  private finish(record: ConnectionRecord): void {
    if (record.durationMs !== undefined) return;
    record.durationMs = Date.now() - record.startedAt;
    this.open.delete(record);
    this.requests.delete(record);
    this.liveMetrics()?.observe(record);
    this.policyState.release(record);
    if (record.backend) {
      let stats = this.backendStats.get(record.backend);
      if (!stats) this.backendStats.set(record.backend, (stats = { active: 0, total: 0, errors: 0 }));
      stats.total++;
      if (record.error) stats.errors++;
    }
    this.emit('connection:end', record);
  }

  /** Refuses a freshly dialed socket that reached one of this proxy's own listeners (a loop). */
  private guard(socket: Socket, target: Target): void {
    // The dialed port is known without a getpeername call: most connections stop here.
    if (!this.ownPorts.has(target.port)) return;
    const port = socket.remotePort;
    if (port === undefined || !this.ownPorts.has(port)) return;
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    // Anything in 127/8 is this host too.
    if (this.ownAddresses.has(address) || address.startsWith('127.')) {
      throw new DialError('loop', `${target.host}:${target.port} is this proxy's own listener (request loop refused)`);
    }
  }

  private refreshOwnAddresses(): void {
    this.ownPorts = new Set(this.listening.map((l) => l.bound.port));
    const addresses = new Set<string>(['127.0.0.1', '::1']);
    for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) addresses.add(info.address);
    for (const l of this.listening) addresses.add(l.bound.host);
    this.ownAddresses = addresses;
  }
}

function listen(server: NetServer | HttpServer, spec: ListenerSpec): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const why = error.code === 'EADDRINUSE' ? 'address already in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new Error(`cannot listen for ${spec.kind} on ${spec.host}:${spec.port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: spec.host, port: spec.port, backlog: 4096 }, () => {
      server.removeListener('error', onError);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : spec.port;
      resolve({ kind: spec.kind, host: spec.host, port, tls: spec.tls !== undefined });
    });
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** "1 tunnel", "3 tunnels"; empty for none. */
function count(n: number, noun: string): string {
  return n === 0 ? '' : `${n} ${noun}${n > 1 ? 's' : ''}`;
}
