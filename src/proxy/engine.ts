import { EventEmitter } from 'node:events';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { AuthService, AuthState } from '../auth/auth-service.js';
import type { AuthClientView } from '../auth/client-registry.js';
import type { Target } from '../backends/backend.js';
import { restartRequired } from '../config/diff.js';
import type { ConfigSnapshot } from '../config/model.js';
import type { DebugAnswer, DebugRequest, DebugState } from '../debug/debug-request.js';
import { TrafficRecorder } from '../debug/traffic-recorder.js';
import type { BoundListener, Engine, EngineEvents, EngineOptions, EngineStats, ReloadReport } from '../engine/engine-api.js';
import { DialError, ProxyError } from '../errors.js';
import type { ReplayOutcome, ReplayPlan } from '../debug/replay.js';
import { Interception } from '../mitm/interception.js';
import { HealthChecker, type LiveCheck } from '../health/health-checker.js';
import type { HealthSource } from '../health/health-source.js';
import type { BackendHealth } from '../health/health-state.js';
import { busiest } from '../policy/busiest-clients.js';
import type { LimitHit } from '../policy/limit-hit.js';
import { Policy, PolicyState } from '../policy/policy.js';
import type { CaptureSettings, ConnectionRecord } from '../protocol/connection-record.js';
import { explainRoute, type RouteExplanation, type RouteQuestion } from '../routing/route-explanation.js';
import { RuleSetStore, type RuleSetStatus, type RuleSetTest } from '../routing/rule-set-store.js';
import type { ProxyMetrics } from '../telemetry/proxy-metrics.js';
import { ConnectionLedger } from './connection-ledger.js';
import { LazyMetrics } from './lazy-metrics.js';
import { CredentialWarnings } from './credential-warnings.js';
import { Descriptors } from './descriptors.js';
import { InterceptDoor } from './intercept-front.js';
import { sendReplay } from './replay-send.js';
import { Listeners } from './listeners.js';
import type { ProxyContext } from './proxy-context.js';
import { retiredBackends } from './reload-drain.js';
import { Runtime } from './runtime.js';
import { viaToken } from './via-token.js';
import { UdpHub } from './udp/udp-hub.js';
import { ThroughputTicker } from './throughput-ticker.js';
import { WorkerPort } from './worker-port.js';

/**
 * The proxy engine of one process, as composition root and facade: it builds the runtime,
 * policy, authentication, health checks and debugger from the snapshot, wires the listeners
 * (src/proxy/listeners.ts) and the connection ledger (src/proxy/connection-ledger.ts) to the
 * fronts, and answers the daemon. See docs/architecture.md for the path of one connection.
 */
export class ProxyEngine extends EventEmitter<EngineEvents> implements Engine {
  private current: Runtime;
  private readonly ledger: ConnectionLedger;
  private readonly udp = new UdpHub(() => this.liveMetrics());
  private readonly listening: Listeners;
  private readonly metrics = new LazyMetrics(() => [
    () => this.ledger.activeByBackend(this.backendNames()), this.options.processMetrics === true, () => this.policyState.shared,
    () => this.descriptors.view().exhausted, () => this.udp.counts(), () => this.ledger.meters.sum(this.ledger.open), () => this.policyState.fleetOpenElsewhere,
  ]);
  private captureSettings: CaptureSettings | null = null;
  private readonly startedAt = Date.now();
  private isDraining = false;
  private readonly context: ProxyContext;
  private readonly policyState: PolicyState;
  private policy: Policy;
  private readonly checker: HealthChecker | null;
  private readonly healthSource: HealthSource;
  private readonly authState: AuthState;
  private gate: AuthService | null;
  private readonly recorder: TrafficRecorder;
  private readonly credentialWarnings = new CredentialWarnings((message) => this.emit('warning', message));
  private readonly descriptors = new Descriptors((message) => this.emit('warning', message));
  /** The rule sets rules match with `match.rule_set`, loaded and refreshed in the background. */
  readonly ruleSets = new RuleSetStore((message) => this.emit('warning', message));
  private readonly interception: Interception;
  private readonly door: InterceptDoor;
  private readonly throughput: ThroughputTicker;
  /** What an engine worker process uses of this engine (see WorkerPort). */
  readonly worker: WorkerPort;

  constructor(
    snapshot: ConfigSnapshot,
    private readonly options: EngineOptions = {},
  ) {
    super();
    this.checker = options.health ? null : new HealthChecker();
    this.checker?.on('change', (event) => this.emit('backend:health', event));
    this.healthSource = options.health ?? this.checker!;
    this.ledger = new ConnectionLedger({ ended: (record) => this.ended(record), warn: (message) => this.emit('warning', message), clientsChanged: options.onClients });
    this.ruleSets.apply(snapshot.ruleSets ?? [], snapshot.ruleSetCacheDir);
    this.current = Runtime.build(snapshot, this.runtimeContext()).runtime;
    this.checker?.sync(snapshot, this.current.backends);
    const hit = (limitHit: LimitHit): void => {
      this.liveMetrics()?.limitHit(limitHit.scope);
      this.emit('limit:hit', limitHit);
    };
    this.policyState = new PolicyState({ hit, warn: (message) => this.emit('warning', message) }, options.sharedLimits ?? null, options.slotLeases ?? null, options.byteLeases ?? null);
    this.policy = new Policy(snapshot, this.policyState);
    this.authState = new AuthState({ hit, warn: (message) => this.emit('warning', message) }, options.attemptLeases ?? null);
    this.policyState.link({ clientsOpen: () => this.ledger.clients.size, failures: this.authState.failures });
    this.gate = AuthService.build(snapshot, this.authState);
    this.interception = new Interception(
      snapshot.role,
      (message) => this.emit('warning', message),
      (host, why) => this.emit('mitm:rejected', host, why),
    );
    this.recorder = new TrafficRecorder(this, {
      capture: (settings) => (this.captureSettings = settings),
      publish: (event) => this.emit('traffic', event),
      warn: (message) => this.emit('warning', message),
      interception: this.interception,
    });
    const ledger = this.ledger;
    // The per-second throughput runs only while someone listens for it.
    this.throughput = new ThroughputTicker(ledger, (bytes) => this.emit('throughput', bytes)).follow(this as EventEmitter, () => this.isDraining);
    this.context = {
      runtime: () => this.current,
      begin: (fields) => ledger.begin(fields),
      routed: (record, backend) => {
        record.backend = backend;
        this.emit('connection:start', record);
      },
      end: (record) => ledger.finish(record),
      track: (socket, record) => ledger.track(socket, record),
      meter: (record, client, inBase, outBase) => ledger.meters.meter(record, client, inBase, outBase),
      cancellable: (record, abort) => ledger.cancellable(record, abort),
      draining: () => this.isDraining,
      capture: () => this.captureSettings,
      policy: () => this.policy,
      auth: () => this.gate,
      outOfDescriptors: () => this.descriptors.refused('dial'),
      interceptor: (host) => this.door.front(host),
      credentialsRefused: (name, message) => this.credentialWarnings.refused(name, this.current.config.backends.find((b) => b.name === name), message),
      viaToken: viaToken(snapshot.role, snapshot.listeners),
      udp: this.udp,
    };
    this.listening = new Listeners({
      proxy: this.context,
      ledger,
      policy: () => this.policy,
      acceptFailed: (error) => this.descriptors.acceptFailed(error),
      warn: (message) => this.emit('warning', message),
      slots: options.slotLeases ?? null,
    });
    this.door = new InterceptDoor(this.context, this.interception);
    this.worker = new WorkerPort({ listening: this.listening, ledger, policyState: this.policyState, draining: () => this.isDraining });
  }

  /**
   * Connections accepted and closed plus records started so far: moves with any traffic (see
   * collectWhenQuiet). Closes count: what thousands of tunnels held becomes garbage when they close.
   */
  get activity(): number {
    const { connectionsTotal, clients, begun } = this.ledger;
    return 2 * connectionsTotal - clients.size + begun;
  }

  /** The config snapshot new connections use. */
  get snapshot(): ConfigSnapshot {
    return this.current.config;
  }

  /** Binds every listener; rejects (and binds none) if any cannot be bound. */
  async start(): Promise<BoundListener[]> {
    await this.ready();
    const bound = await this.listening.start(this.current.config);
    // Ports given as 0 are known now: the token names the addresses actually served.
    this.context.viaToken = viaToken(this.current.config.role, bound);
    this.startHealthChecks();
    this.descriptors.start();
    return bound;
  }

  /** Loads what the current config needs before connections arrive (the metrics module when metrics are on); start() does, and a reload that turns them on. */
  async ready(config = this.current.config): Promise<void> {
    await this.metrics.load(config.metrics);
  }

  /** Starts the active health checks (start() does; a clustered engine's primary calls it without listeners). */
  startHealthChecks(): void {
    this.checker?.start();
  }

  /** Listeners currently bound. */
  boundListeners(): BoundListener[] {
    return this.listening.bound();
  }

  /** Swaps in a new snapshot atomically; open connections keep the one they started with. */
  async reload(next: ConfigSnapshot): Promise<ReloadReport> {
    // Awaited only when there is something to load: otherwise the swap stays synchronous, as callers expect.
    if (this.metrics.missing(next.metrics)) await this.ready(next);
    // Read before anything changes: a certificate that cannot be served refuses the whole reload.
    const applyToListeners = this.listening.prepareReload(next);
    const previous = this.current;
    // Rule sets load in the background: the ones serving now keep serving until their replacements are built.
    this.ruleSets.apply(next.ruleSets ?? [], next.ruleSetCacheDir);
    const { runtime, retired } = Runtime.build(next, this.runtimeContext(), previous);
    this.current = runtime;
    this.policy = new Policy(next, this.policyState);
    this.checker?.sync(next, runtime.backends);
    this.gate = AuthService.build(next, this.authState, this.gate);
    // Retired backends only lose their idle pools; tunnels already open through them go on for now.
    for (const backend of retired) void backend.close();
    this.ledger.closeRetiredLater(retiredBackends(previous.config, next), next.reload.drainTimeoutMs);
    applyToListeners();
    return { version: next.version, previousVersion: previous.config.version, restartRequired: restartRequired(previous.config, next) };
  }

  /** Stops accepting, drains open connections up to drainMs, destroys the rest. */
  async stop(options: { drainMs?: number; forceMs?: number } = {}): Promise<{ drained: number; forced: number }> {
    const drainMs = options.drainMs ?? this.current.config.shutdown.drainTimeoutMs;
    this.isDraining = true;
    this.ruleSets.stop();
    this.ledger.cancelRetiring();
    this.throughput.set(false);
    this.checker?.stop();
    this.descriptors.stop();
    const closing = this.listening.close();
    const clients = this.ledger.clients;
    const before = clients.size;
    const deadline = Date.now() + drainMs;
    while (clients.size > 0 && Date.now() < deadline) {
      for (const { server } of closing) if ('closeIdleConnections' in server) server.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    const forced = clients.size;
    this.udp.closeAll('stopped');
    this.ledger.destroyAll();
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
      connectionsActive: this.ledger.clients.size,
      connectionsTotal: this.ledger.connectionsTotal,
      backends: this.ledger.backendCounters(this.backendNames()),
      busiestClients: busiest(this.policyState.perIp),
      descriptors: this.descriptors.view(),
      udp: this.udp.counts(),
    };
  }

  /** Runs one check through a backend now (its configured check, or tcp to `target`) and reports how long it took. */
  async testBackend(name: string, target?: Target): Promise<LiveCheck> {
    const backend = this.current.backends.get(name);
    if (!backend) throw new DialError('unavailable', `no backend named "${name}"`);
    return (this.checker ?? new HealthChecker()).check(backend, this.current.config.network.timeouts.connectMs, target);
  }

  /** Every backend's health now (as `GET /api/backends/:name/health` answers), by name. */
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
  explainRoute(host: string | undefined, question: RouteQuestion = {}): RouteExplanation {
    const runtime = this.current;
    return explainRoute(runtime.config, runtime.router, host, (index, client) => runtime.preview(index, client), question);
  }

  /** Sends a recorded request again through the named backend, with the read timeout of the config. */
  async replay(plan: ReplayPlan, name: string): Promise<ReplayOutcome> {
    const backend = this.current.backends.get(name);
    if (!backend) throw new ProxyError('NOT_FOUND', `no backend named "${name}"`);
    return sendReplay(backend, plan, this.current.config.network.timeouts.readMs);
  }

  /** The rule sets of this process as loaded now. */
  ruleSetStatuses(): RuleSetStatus[] {
    return this.ruleSets.statuses();
  }

  /** Whether a rule set of this process matches a host, and by which entry. */
  testRuleSet(name: string, host: string): RuleSetTest | null {
    return this.ruleSets.test(name, host);
  }

  /** Asks this process's traffic debugger. */
  async debug<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>[]> {
    return [await this.recorder.answer(request)];
  }

  /** Counts a refusal of the interception certificate another engine process saw. */
  heardRejection(host: string): void {
    this.interception.heardRejection(host);
  }

  /** Follows the interception settings without recording here: a primary's replay trusts the origins its workers trust (debug.mitm.upstream_ca_file). */
  followInterception(state: DebugState): void {
    this.interception.configure(state.spec.mitm, state.ca);
  }

  /** This process's proxy metrics (empty until metrics are enabled in the config). */
  async metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
    const metrics = this.liveMetrics();
    return metrics ? [await metrics.registry.getMetricsAsJSON()] : [];
  }

  /** The users authenticated by this process, with their connections open now. */
  async authClients(): Promise<AuthClientView[][]> {
    return [this.authState.clients.list(this.ledger.openByUser())];
  }

  /** The tunnels and requests open in this process. */
  async openConnections(): Promise<ConnectionRecord[]> {
    return this.ledger.list();
  }

  /** Closes this process's open tunnels and requests that match. */
  async closeConnections(filter: Parameters<Engine['closeConnections']>[0]): Promise<number> {
    return this.ledger.close(filter);
  }

  /** The authentication of new connections (null when auth is off), for its counters. */
  get auth(): AuthService | null {
    return this.gate;
  }

  /** The proxy metrics while the config enables them. */
  private liveMetrics(): ProxyMetrics | null {
    return this.metrics.get(this.current.config.metrics);
  }

  /** What a finished record updates besides the ledger: metrics, the backend slot, the `connection:end` event. */
  private ended(record: ConnectionRecord): void {
    this.liveMetrics()?.observe(record);
    this.policyState.release(record);
    this.emit('connection:end', record);
  }

  private backendNames(): string[] {
    return this.current.config.backends.map((b) => b.name);
  }

  private runtimeContext(): Parameters<typeof Runtime.build>[1] {
    return { guard: (socket, target) => this.listening.guard(socket, target), health: this.healthSource, ruleSets: this.ruleSets };
  }
}
