import { join } from 'node:path';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolveSecretRefs } from '../auth/secret-refs.js';
import { ConfigError, ProxyError } from '../errors.js';
import { roleDefaults, type Role } from '../role.js';
import type { ConfigSnapshot } from '../config/model.js';
import { diffConfigs } from '../config/diff.js';
import { editConfigFile, type Edit, type EditOptions } from '../config/editor.js';
import { rulePlacement } from '../config/rule-placement.js';
import type { BackendView } from '../control/answers/backends.js';
import type { EditAnswer, ReloadAnswer, StatusAnswer } from '../control/answers/daemon.js';
import { ControlRouter } from '../control/control-router.js';
import { ControlServer } from '../control/control-server.js';
import { EventHub } from '../control/event-hub.js';
import { createEngine } from '../proxy/create-engine.js';
import type { BoundListener, Engine, EngineStats } from '../engine/engine-api.js';
import { TrafficDebugger } from '../debug/traffic-debugger.js';
import type { DaemonMetrics } from '../telemetry/daemon-metrics.js';
import { Logger } from '../telemetry/logger.js';
import { MetricsServer, type Readiness } from '../telemetry/metrics-server.js';
import { proxyProtocolGate, type ProxyProtocolGate } from '../policy/proxy-protocol-gate.js';
import { TunnelManager } from '../tunnels/tunnel-manager.js';
import type { DaemonPaths } from './paths.js';
import { PolicyHooks } from './policy-hooks.js';
import { checkTlsFiles } from '../proxy/tls-material.js';
import { BackendStates } from './backend-states.js';
import { DaemonManagement } from './management.js';
import { bindRoutes } from './routes/bind-routes.js';
import type { DaemonContext } from './routes/context.js';
import { serverLink } from './server-link.js';
import { ConfigReader } from './config-reader.js';
import { remoteEditRefusal } from '../config/source-schema.js';

/** A running daemon: the engine, its config file, the control socket and the signals. */
export class Daemon implements DaemonContext {
  engine!: Engine;
  snapshot!: ConfigSnapshot;
  /** The snapshot the daemon started with: what runs for settings only a restart changes. */
  private started!: ConfigSnapshot;
  private listeners: BoundListener[] = [];
  private readonly router = new ControlRouter();
  private readonly control: ControlServer;
  readonly hub = new EventHub();
  private readonly startedAt = Date.now();
  private reloads = 0;
  private reloadErrors = 0;
  private editing: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  /** A stop asked for --force (the first or a later call): no grace, no drain. */
  private forced = false;
  /** Ends shutdown.accept_grace early (a forced stop during it). */
  private endGrace: (() => void) | null = null;
  private readonly logger: Logger;
  /** The daemon's metrics, made with the first scrape. */
  private metrics: Promise<DaemonMetrics> | null = null;
  private metricsServer: MetricsServer | null = null;
  /** `server.proxy_protocol` of the config in force, for the metrics listener. */
  private proxyProtocol: ProxyProtocolGate | null = null;
  private metricsAddress: { host: string; port: number } | null = null;
  traffic!: TrafficDebugger;
  readonly policy: PolicyHooks;
  readonly tunnels: TunnelManager;
  readonly management: DaemonManagement;
  private readonly reader: ConfigReader;
  private readonly states: BackendStates;

  constructor(
    readonly role: Role,
    private readonly configPath: string | null,
    private readonly paths: DaemonPaths,
  ) {
    this.control = new ControlServer(paths.socket, this.router);
    this.logger = new Logger('info');
    this.policy = new PolicyHooks(this.logger);
    this.tunnels = new TunnelManager(paths.stateDir, paths.runtimeDir);
    this.states = new BackendStates(() => ({ snapshot: this.snapshot, engine: this.engine }), this.tunnels);
    this.reader = new ConfigReader(role, paths.stateDir);
    this.router.version = () => this.snapshot?.version ?? '';
    this.management = new DaemonManagement(paths, this.router, this.hub, this.logger, () => this.snapshot?.version ?? '');
  }

  /**
   * Loads the config, binds the listeners and the control socket and brings the tunnels up
   * (concurrently, bounded; `progress` hears each); rejects with the reason if a listener cannot come up.
   */
  async start(progress?: (line: string) => void): Promise<{ listeners: BoundListener[]; snapshot: ConfigSnapshot }> {
    const loaded = this.withRuleSetCache(await resolveSecretRefs((await this.reader.read(this.configPath, 'start'))!));
    const leftovers = await this.tunnels.cleanup();
    if (leftovers.length > 0) this.logger.warn(`removed what a previous run left behind: ${leftovers.join(', ')}`);
    this.snapshot = this.tunnels.prepare(loaded);
    this.proxyProtocol = proxyProtocolGate(this.snapshot);
    this.started = this.snapshot;
    this.tunnels.on('tunnel:status', (status) => {
      const text = `tunnel "${status.name}" (${status.type}) ${status.state}${status.reason ? `: ${status.reason}` : ''}`;
      if (status.state === 'down') this.logger.warn(text);
      else this.logger.info(text);
      this.hub.publish({ type: 'tunnel', time: Date.now(), tunnel: status });
      // Checks that failed while the tunnel was down would keep it out of rotation until the next interval.
      if (status.state === 'up') this.engine.recheck(status.name);
    });
    this.logger.setLevel(this.snapshot.logLevel);
    this.policy.check(this.snapshot);
    this.management.check(this.snapshot);
    checkTlsFiles(this.snapshot);
    this.engine = createEngine(this.snapshot, this.snapshot.workers);
    this.engine.on('warning', (message) => {
      this.logger.warn(message);
      this.hub.publish({ type: 'warning', time: Date.now(), message });
    });
    this.engine.on('backend:health', (event) => {
      const fields = { backend: event.backend, latency_ms: event.latencyMs, consecutive_failures: event.consecutiveFailures, ...(event.reason ? { reason: event.reason } : {}) };
      if (event.healthy) this.logger.info(`backend "${event.backend}" is healthy`, fields);
      else this.logger.warn(`backend "${event.backend}" is ${event.status}`, fields);
      this.hub.publish({ type: 'backend:health', time: Date.now(), ...event });
    });
    this.traffic = new TrafficDebugger(this.engine, this.snapshot.debug, { stateDir: this.paths.stateDir, role: this.snapshot.role, notice: (message) => this.logger.warn(message) });
    this.hub.attach(this.engine, this.traffic);
    await this.policy.start(this.snapshot, this.engine);
    bindRoutes(this.router, this);
    await this.control.listen();
    try {
      const tunnelsUp = this.tunnels.apply(this.snapshot, progress).catch((error: Error) => this.logger.error(`tunnels not brought up: ${error.message}`));
      this.listeners = await this.engine.start();
      await this.startMetrics(this.snapshot);
      await this.management.start(this.snapshot, () => this.readiness());
      await tunnelsUp;
    } catch (error) {
      await this.management.close().catch(() => undefined);
      await this.engine.stop({ drainMs: 0 }).catch(() => undefined);
      await this.tunnels.stop();
      await this.control.close();
      throw new ProxyError('LISTEN_FAILED', (error as Error).message);
    }
    await this.traffic.start();
    mkdirSync(this.paths.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(this.paths.pidFile, `${process.pid}\n`);
    process.on('SIGTERM', () => void this.stop(false));
    process.on('SIGINT', () => void this.stop(false));
    process.on('SIGHUP', () => void this.reload(false).catch(() => undefined));
    process.on('SIGUSR1', () => {
      void this.policy.reopen().catch((error: Error) => this.logger.error(error.message));
      try {
        this.management.reopen();
      } catch (error) {
        this.logger.error(`audit log not reopened: ${(error as Error).message}`);
      }
    });
    this.inForce(this.snapshot);
    const where = this.listeners.map((l) => `${l.kind}${l.tls ? '+tls' : ''} ${l.host}:${l.port}`).join(', ');
    this.logger.info(`${roleDefaults(this.role).bin} started`, { pid: process.pid, listeners: where, config: this.snapshot.source ?? 'embedded default', version: this.snapshot.version, socket: this.paths.socket });
    for (const warning of this.snapshot.warnings) this.logger.warn(warning);
    return { listeners: this.listeners, snapshot: this.snapshot };
  }

  /** Reloads the config file (or fetches its `config.source` URL now): validated whole, then swapped in; an invalid one leaves the running config alone. */
  async reload(dryRun: boolean): Promise<ReloadAnswer> {
    let next: ConfigSnapshot;
    try {
      next = this.withRuleSetCache(await resolveSecretRefs((await this.reader.read(this.snapshot.source, 'reload'))!));
    } catch (error) {
      if (!dryRun) this.refused(error as Error);
      throw error;
    }
    return this.apply(next, dryRun);
  }

  /** Each `config.source` interval: a new body goes through the reload path; an unchanged one changes nothing. */
  private async poll(): Promise<void> {
    const before = this.reader.status(this.snapshot)?.error;
    let next: ConfigSnapshot | null;
    try {
      next = await this.reader.read(this.snapshot.source, 'poll');
      if (next === null) return;
      next = this.withRuleSetCache(await resolveSecretRefs(next));
    } catch (error) {
      // An origin that stays down is said once, not every interval.
      if ((error as ProxyError).code !== 'CONFIG_UNREACHABLE') this.refused(error as Error);
      else if ((error as Error).message !== before) this.logger.warn(`${(error as Error).message}; the running config keeps serving`);
      return;
    }
    await this.apply(next, false).catch(() => undefined);
  }

  /** A reload that did not validate: counted, logged with its problems, published; the running config stays. */
  private refused(error: Error): void {
    this.reloadErrors++;
    const problems = error instanceof ConfigError ? error.problems : [error.message];
    this.reader.rejected(problems.join('; '));
    this.logger.error('reload rejected; the running config keeps serving', { problems });
    this.hub.publish({ type: 'reload', time: Date.now(), ok: false, errors: problems });
  }

  /** `snapshot` runs now: a URL-sourced body becomes the last good copy, and its interval is followed. */
  private inForce(snapshot: ConfigSnapshot): void {
    const warning = this.reader.inForce(snapshot, () => this.poll());
    if (warning) this.logger.warn(warning);
  }

  /**
   * Stops: readiness turns 503 at once; the listeners keep accepting for shutdown.accept_grace (a
   * balancer's health check takes the node out of rotation meanwhile), then close; connections
   * drain up to shutdown.drain_timeout, then the process exits.
   */
  stop(force: boolean): Promise<void> {
    if (force) {
      this.forced = true;
      this.endGrace?.();
    }
    this.stopping ??= (async () => {
      const { acceptGraceMs, drainTimeoutMs, forceTimeoutMs } = this.snapshot.shutdown;
      const hardStop = setTimeout(() => {
        this.logger.error('force timeout reached; exiting');
        process.exit(1);
      }, forceTimeoutMs);
      hardStop.unref();
      if (!this.forced && acceptGraceMs > 0) {
        // A connection a balancer sends while its check has not yet seen the 503 is served, not reset in the listen queue.
        this.logger.info('stopping: not ready, still accepting', { accept_grace_ms: acceptGraceMs });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, acceptGraceMs);
          this.endGrace = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.endGrace = null;
      }
      const now = this.forced;
      this.logger.info(now ? 'stopping now (forced)' : 'stopping: draining connections', { drain_timeout_ms: now ? 0 : drainTimeoutMs });
      await this.metricsServer?.close();
      await this.management.close();
      const result = await this.engine.stop({ drainMs: now ? 0 : drainTimeoutMs, forceMs: forceTimeoutMs });
      this.reader.stop();
      await this.tunnels.stop();
      this.hub.close();
      await this.policy.close();
      await this.control.close();
      try {
        if (readFileSync(this.paths.pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(this.paths.pidFile);
      } catch {
        // No pidfile to remove.
      }
      this.logger.info('stopped', { drained: result.drained, forced: result.forced });
      process.exit(0);
    })();
    return this.stopping;
  }

  private async apply(loaded: ConfigSnapshot, dryRun: boolean): Promise<ReloadAnswer> {
    const next = this.tunnels.prepare(loaded);
    const diff = diffConfigs(this.snapshot, next, this.started);
    const result: ReloadAnswer = { ok: true, dryRun, version: next.version, previousVersion: this.snapshot.version, diff, restartRequired: diff.restartRequired, warnings: next.warnings };
    try {
      this.policy.check(next);
      this.management.check(next);
      checkTlsFiles(next);
    } catch (error) {
      if (!dryRun) this.refused(error as Error);
      throw error;
    }
    if (dryRun) return result;
    await this.engine.reload(next);
    // Only added, removed and changed tunnels are touched; the reload does not wait for new ones.
    await this.tunnels.apply(next, undefined, 0);
    const previous = this.snapshot;
    await this.policy.apply(next, this.engine);
    this.snapshot = next;
    this.inForce(next);
    await this.management.apply(next, () => this.readiness()).catch((error: Error) => this.logger.error(`control API listener not restarted: ${error.message}`));
    this.proxyProtocol = proxyProtocolGate(next);
    this.logger.setLevel(next.logLevel);
    this.reloads++;
    if (JSON.stringify(previous.debug) !== JSON.stringify(next.debug)) await this.traffic.configure(next.debug);
    if (JSON.stringify(previous.metrics) !== JSON.stringify(next.metrics)) {
      await this.metricsServer?.close();
      this.metricsServer = null;
      this.metricsAddress = null;
      await this.startMetrics(next).catch((error: Error) => this.logger.error(`metrics listener not restarted: ${error.message}`));
    }
    this.logger.info('config reloaded', { version: next.version, previous: result.previousVersion });
    if (diff.restartRequired.length > 0) this.logger.warn(`changed settings need a restart to take effect: ${diff.restartRequired.join(', ')}`);
    for (const warning of next.warnings) this.logger.warn(warning);
    this.hub.publish({ type: 'reload', time: Date.now(), ok: true, version: next.version, restartRequired: diff.restartRequired });
    return result;
  }

  /** Edits the config file (serialised), then applies the result like a reload; `placed` names a rule whose new place the answer reports. */
  edit(edit: Edit, options: EditOptions & { placed?: string } = {}): Promise<EditAnswer> {
    const source = this.snapshot.source;
    if (this.snapshot.configSource) return Promise.reject(remoteEditRefusal(this.snapshot.configSource.url));
    if (source === null) {
      return Promise.reject(new ProxyError('NO_CONFIG_FILE', `the daemon runs on the embedded default config; write one with "${roleDefaults(this.role).bin} config init" and start with --config FILE to edit it`));
    }
    // The file is re-read like any reload, with this daemon's environment for ${VAR}.
    const run = this.editing.then(async () => {
      const edited = await editConfigFile(source, this.role, edit, options);
      const result = await this.reload(false);
      return options.placed === undefined ? result : { ...result, placement: rulePlacement(edited, options.placed) };
    });
    this.editing = run.catch(() => undefined);
    return run;
  }

  /** Reloads accepted and rejected since start. */
  get reloadCounts(): { total: number; errors: number } {
    return { total: this.reloads, errors: this.reloadErrors };
  }

  /** What the running daemon is doing (`GET /api/status`). */
  async status(): Promise<StatusAnswer> {
    const stats = await this.engine.stats();
    const backends = this.backendViews(stats);
    return {
      role: this.role,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      startedAt: new Date(this.startedAt).toISOString(),
      config: { source: this.snapshot.source, version: this.snapshot.version, loadedAt: new Date(this.snapshot.loadedAt).toISOString(), warnings: this.snapshot.warnings, ...this.reader.statusPart(this.snapshot) },
      listeners: this.listeners,
      metrics: this.metricsAddress ? { ...this.metricsAddress, endpoint: this.snapshot.metrics!.endpoint } : null,
      management: this.management.address,
      debug: { enabled: this.traffic.enabled },
      workers: this.snapshot.workers,
      socket: this.paths.socket,
      connections: { active: stats.connectionsActive, total: stats.connectionsTotal },
      backends,
      ...(this.role === 'client' ? { server: serverLink(this.snapshot, backends) } : {}),
      tunnels: this.tunnels.list(),
      reloads: { total: this.reloads, errors: this.reloadErrors },
      descriptors: stats.descriptors,
      udp: stats.udp,
    };
  }

  /** Binds the metrics listener when the config gives it a port. */
  private async startMetrics(snapshot: ConfigSnapshot): Promise<void> {
    const spec = snapshot.metrics;
    if (spec?.port === undefined) return;
    const server = new MetricsServer(
      { ...spec, port: spec.port },
      { metrics: () => this.exposition(), readiness: () => this.readiness(), proxyProtocol: () => this.proxyProtocol, warn: (message) => this.logger.warn(message) },
    );
    this.metricsAddress = await server.start();
    this.metricsServer = server;
  }

  /** Every metric of the daemon and its engine processes, as Prometheus text. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    this.metrics ??= import('../telemetry/daemon-metrics.js').then(({ DaemonMetrics }) => new DaemonMetrics(this.startedAt, () => this.states.health(), () => ({ applied: this.reloads, rejected: this.reloadErrors })));
    return (await this.metrics).exposition(await this.engine.metricsJson());
  }

  /** Why a tunnel backend cannot carry traffic now (null: it can, or it is no tunnel). */
  tunnelProblem(name: string): string | null {
    return this.states.tunnelProblem(name);
  }

  /** The backend list with tunnels that are not up shown as unavailable, with the reason. */
  backendViews(stats: Pick<EngineStats, 'backends'>): BackendView[] {
    return this.states.views(stats);
  }

  private readiness(): Readiness {
    return this.states.readiness(this.stopping !== null);
  }

  /** Fetched rule sets are kept in the state directory, for the next start to serve before its first fetch answers. */
  private withRuleSetCache(snapshot: ConfigSnapshot): ConfigSnapshot {
    return { ...snapshot, ruleSetCacheDir: join(this.paths.stateDir, 'rule-sets') };
  }
}
