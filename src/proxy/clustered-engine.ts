import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { AuthClientView } from '../auth/client-registry.js';
import type { ConfigSnapshot } from '../config/model.js';
import type { DebugAnswer, DebugRequest, DebugState } from '../debug/debug-request.js';
import type { ReplayOutcome, ReplayPlan } from '../debug/replay.js';
import type { Target } from '../backends/backend.js';
import type { LiveCheck } from '../health/health-checker.js';
import type { BackendHealth } from '../health/health-state.js';
import { MemoryStore } from '../limits/memory-store.js';
import type { RouteExplanation, RouteQuestion } from '../routing/route-explanation.js';
import type { BoundListener, Engine, EngineEvents, EngineStats, ReloadReport } from '../engine/engine-api.js';
import { mergeStats } from './merged-stats.js';
import type { ConnectionFilter } from '../protocol/connection-filter.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { relayPasses } from './balance-pool.js';
import { ClusterAttempts } from './cluster-attempts.js';
import { ClusterBytes } from './cluster-bytes.js';
import { ClusterSlots } from './cluster-slots.js';
import { Descriptors } from './descriptors.js';
import { ProxyEngine } from './engine.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { ENGINE_V8_FLAGS, WORKER_ENV } from './worker-env.js';
import { workerExited } from './worker-exit.js';
import { WorkerSlots, type Slot } from './worker-slots.js';
import type { RuleSetStatus, RuleSetTest } from '../routing/rule-set-store.js';

const WORKER_ENTRY = fileURLToPath(new URL(`./engine-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
const RESTART_DELAY_MS = 500;

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; worker: Worker; onExit: () => void };

/**
 * The engine spread over several worker processes (node:cluster), for more than one core. The
 * workers accept on shared sockets, pass what they accept over their share through here to the
 * worker with the fewest (relayPasses), lease max_connections_per_ip's slots from here
 * (ClusterSlots) and the bandwidth budgets of max_mbps_per_ip and max_mbps_total (ClusterBytes),
 * and ask here before checking the credentials of a client with failed logins (ClusterAttempts).
 * max_connections is counted here over every worker, and rate buckets live here too (PrimaryStore). Same surface as ProxyEngine: the primary keeps the
 * snapshot, answers route explanations and backend tests itself, fans reloads and stops out to
 * the workers, sums their counters and re-emits their records and debugger events (batched, and
 * only while something listens for them). A dead worker is replaced, and the connections it cut are logged.
 */
export class ClusteredEngine extends EventEmitter<EngineEvents> implements Engine {
  private readonly local: ProxyEngine;
  private readonly workers = new Set<Worker>();
  private readonly slots: WorkerSlots;
  /** max_connections_per_ip's slots each worker on shared sockets holds per client. */
  private readonly pool: ClusterSlots;
  /** Bandwidth budgets over every worker. */
  private readonly bytes = new ClusterBytes((w, m) => this.tell(w, m));
  /** Failed logins per client over every worker. */
  private readonly attempts = new ClusterAttempts({ workers: () => this.workers, tell: (w, m) => this.tell(w, m), snapshot: () => this.local.snapshot });
  /** The primary's own descriptors (status shows the engine process nearest its limit). */
  private readonly descriptors = new Descriptors((message) => this.emit('warning', message));
  /** Request-rate buckets that span clients (global, per user), shared by every worker. */
  private limits: MemoryStore | null = null;
  private readonly pending = new Map<number, Pending>();
  /** Each worker's acknowledgement of the last subscription sent to it (only workers that said they are ready: a message before that is lost). */
  private readonly subscribed = new WeakMap<Worker, Promise<void>>();
  private nextId = 0;
  /** Messages the workers sent so far: what this process handles for their traffic (see collectWhenQuiet). */
  activity = 0;
  private bound: BoundListener[] = [];
  private stopping = false;
  private debugState: DebugState | null = null;

  constructor(snapshot: ConfigSnapshot, count: number) {
    super();
    this.local = new ProxyEngine(snapshot);
    this.slots = new WorkerSlots(count);
    this.pool = new ClusterSlots(count, { workers: () => this.workers, reclaim: (w, address) => this.request(w, { type: 'slots-reclaim', address }), tell: (w, m) => this.tell(w, m), cap: () => this.local.snapshot.network.limits.maxConnectionsPerIp });
    // Checks run once, here; every worker gets the resulting list of backends to skip.
    this.local.on('backend:health', (event) => {
      this.broadcastHealth();
      this.emit('backend:health', event);
    });
    const plain = this as EventEmitter;
    plain.on('newListener', () => queueMicrotask(() => this.broadcastSubscription()));
    plain.on('removeListener', () => queueMicrotask(() => this.broadcastSubscription()));
  }

  /** The config snapshot new connections use. */
  get snapshot(): ConfigSnapshot {
    return this.local.snapshot;
  }

  /** Binds the listeners (here, or in every worker) and starts the workers; rejects (and stops them all) if either fails. */
  async start(): Promise<BoundListener[]> {
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], silent: false, execArgv: [...ENGINE_V8_FLAGS, ...process.execArgv] });
    try {
      const results = await Promise.all(this.slots.list.map((_, index) => this.spawn(index)));
      const key = (list: BoundListener[]): string => list.map((l) => `${l.kind}@${l.host}:${l.port}`).join(',');
      if (results.some((list) => key(list) !== key(results[0]))) throw new Error(`engine workers bound different ports: ${results.map(key).join(' / ')}`);
      this.bound = results[0];
      this.local.startHealthChecks();
      this.descriptors.start();
      return this.bound;
    } catch (error) {
      this.stopping = true;
      for (const worker of this.workers) worker.kill();
      throw error;
    }
  }

  /** Listeners currently bound (shared by every worker). */
  boundListeners(): BoundListener[] {
    return this.bound;
  }

  /** Swaps in a new snapshot in every worker; open connections keep the one they started with. */
  async reload(next: ConfigSnapshot): Promise<ReloadReport> {
    const report = await this.local.reload(next);
    this.broadcastHealth();
    await Promise.all([...this.workers].map((worker) => this.request(worker, { type: 'reload', snapshot: next })));
    return report;
  }

  /** Stops every worker gracefully (drain, then force) and waits until they have exited; one still starting holds no connection and would not hear a stop sent before it listens, so it is killed. */
  async stop(options: { drainMs?: number; forceMs?: number } = {}): Promise<{ drained: number; forced: number }> {
    this.stopping = true;
    this.descriptors.stop();
    const workers = [...this.workers];
    const serving = this.slots.serving();
    // A worker still starting has no connections: killed, not asked (it would not hear a message yet).
    for (const worker of workers) if (!serving.includes(worker)) worker.process.kill('SIGKILL');
    const results = await Promise.all(serving.map((worker) => this.request(worker, { type: 'stop', ...options }).catch(() => ({ drained: 0, forced: 0 })) as Promise<{ drained: number; forced: number }>));
    await Promise.all(workers.map((worker) => workerExited(worker, serving.includes(worker))));
    await this.local.stop({ drainMs: 0 });
    await this.limits?.close();
    return results.reduce((sum, r) => ({ drained: sum.drained + r.drained, forced: sum.forced + r.forced }), { drained: 0, forced: 0 });
  }

  /** Counters summed over the workers. */
  async stats(): Promise<EngineStats> {
    const all = (await Promise.all(this.slots.serving().map((worker) => this.request(worker, { type: 'stats' })))) as EngineStats[];
    return mergeStats(all, this.descriptors.view());
  }

  /** Runs one check through a backend now (from the primary) and reports how long it took. */
  testBackend(name: string, target?: Target): Promise<LiveCheck> {
    return this.local.testBackend(name, target);
  }

  /** Replays from the primary's own engine, through its backends. */
  replay(plan: ReplayPlan, backend: string): Promise<ReplayOutcome> {
    return this.local.replay(plan, backend);
  }

  /** Every backend's health, as the primary's checks see it. */
  health(): Record<string, BackendHealth> {
    return this.local.health();
  }

  /** Runs a backend's health check now (the primary runs the checks). */
  recheck(name: string): void {
    this.local.recheck(name);
  }

  /** Which rule and backend a host would take now (the primary's health view; balancing state is each worker's own). */
  explainRoute(host: string | undefined, question?: RouteQuestion): RouteExplanation {
    return this.local.explainRoute(host, question);
  }

  /** The rule sets as the primary's engine holds them (each worker loads the same ones). */
  ruleSetStatuses(): RuleSetStatus[] {
    return this.local.ruleSetStatuses();
  }

  /** Whether a rule set matches a host, as the primary's engine holds it. */
  testRuleSet(name: string, host: string): RuleSetTest | null {
    return this.local.testRuleSet(name, host);
  }

  /** Asks every worker's traffic debugger; one answer per worker. Settings given are kept for replacement workers. */
  async debug<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>[]> {
    if (request.op === 'set') {
      this.debugState = request.state;
      this.local.followInterception(request.state);
    }
    const all = (await Promise.all(this.slots.serving().map((worker) => this.request(worker, { type: 'debug', request })))) as DebugAnswer<R>[][];
    return all.flat();
  }

  /** Every worker's proxy metrics, one list per worker. */
  async metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
    const all = (await Promise.all(this.slots.serving().map((worker) => this.request(worker, { type: 'metrics' })))) as MetricObjectWithValues<MetricValue<string>>[][][];
    return all.flat();
  }

  /** Every worker's authenticated clients, one list per worker. */
  async authClients(): Promise<AuthClientView[][]> {
    const all = (await Promise.all(this.slots.serving().map((worker) => this.request(worker, { type: 'clients' })))) as AuthClientView[][][];
    return all.flat();
  }

  /** The tunnels and requests open in every worker. */
  async openConnections(): Promise<ConnectionRecord[]> {
    const all = (await Promise.all(this.slots.serving().map((worker) => this.request(worker, { type: 'connections' })))) as ConnectionRecord[][];
    return all.flat();
  }

  /** Closes the matching tunnels and requests in every worker. */
  async closeConnections(filter: ConnectionFilter): Promise<number> {
    const counts = (await Promise.all(this.slots.serving().map((worker) => this.request(worker, { type: 'close', filter })))) as number[];
    return counts.reduce((a, b) => a + b, 0);
  }

  private async spawn(index: number): Promise<BoundListener[]> {
    const worker = cluster.fork(WORKER_ENV);
    const slot = this.slots.list[index];
    // A write to a worker that just died fails on its channel (EPIPE); its 'exit' reports the loss, and an unhandled 'error' would end the daemon.
    this.workers.add(worker.on('error', () => undefined));
    relayPasses(worker, slot, this.slots);
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('exit', () => reject(new Error(`engine worker ${worker.process.pid} exited during start`)));
      worker.on('message', (message: FromWorker) => (message.type === 'ready' ? resolve() : this.onMessage(message, worker, slot)));
    });
    worker.on('exit', (code, signal) => {
      this.workers.delete(worker);
      const cut = this.slots.lost(slot, worker);
      this.pool.lost(worker);
      this.attempts.lost(worker);
      if (this.stopping) return;
      this.slots.tellElsewhere();
      const how = signal ? `was killed (${signal})` : `exited (code ${code})`;
      this.emit('warning', `engine worker ${worker.process.pid} ${how}, cutting ${cut} client connection${cut === 1 ? '' : 's'}; starting a replacement`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(index).catch((error: Error) => this.stopping || this.emit('warning', `replacement worker failed: ${error.message}`));
      }, RESTART_DELAY_MS);
    });
    await ready;
    this.sendSubscription(worker);
    worker.send({ type: 'health', down: this.down() } satisfies ToWorker);
    const bound = (await this.request(worker, { type: 'start', snapshot: this.local.snapshot, debug: this.debugState, processes: this.slots.list.length, pinned: this.pool.pinned(), watched: this.attempts.watched() })) as BoundListener[];
    // Only now does it get connections: its engine is ready for them.
    this.slots.serve(slot, worker);
    this.slots.tellElsewhere();
    return bound;
  }

  private onMessage(message: FromWorker, worker: Worker, slot: Slot): void {
    this.activity++;
    if (this.pool.handle(message, worker) || this.attempts.handle(message, worker) || this.bytes.handle(message, worker)) return;
    if (message.type === 'load') {
      this.slots.report(slot, worker, message.active, message.received, message.backends);
      this.slots.tellElsewhere();
    } else if (message.type === 'limit') {
      this.limits ??= new MemoryStore();
      this.tell(worker, { type: 'verdict', id: message.id, verdict: this.limits.consume(message.buckets, message.lease) });
    } else if (message.type === 'reply') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      // Every request watches its worker's exit only until its answer: nothing stays behind per call.
      pending.worker.removeListener('exit', pending.onExit);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error));
    } else if (message.type === 'records') {
      for (const { phase, record } of message.events) {
        if (phase !== 'end') this.emit('connection:start', record);
        if (phase !== 'start') this.emit('connection:end', record);
      }
      for (const { phase, record } of message.traffic) {
        if (phase !== 'end') this.emit('traffic', { phase: 'request', record });
        if (phase !== 'start') this.emit('traffic', { phase: 'response', record });
      }
    } else if (message.type === 'throughput') {
      this.emit('throughput', message.bytes);
    } else if (message.type === 'limit-hits') {
      for (const hit of message.hits) this.emit('limit:hit', hit);
    } else if (message.type === 'warning') {
      this.emit('warning', message.message);
    } else if (message.type === 'mitm-rejected') {
      // Every worker counts every refusal: passthrough_after_failures holds whichever worker a client reaches.
      for (const other of this.workers) if (other !== worker && other.isConnected()) other.send({ type: 'mitm-rejected', host: message.host } satisfies ToWorker);
    } else if (message.type === 'traffic') {
      this.local.reportTraffic(message.backend, message.ok, message.error);
    }
  }

  private request(worker: Worker, message: WithoutId<Extract<ToWorker, { id: number }>>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onExit = (): void => {
        if (this.pending.delete(id)) reject(new Error(`engine worker ${worker.process.pid} exited`));
      };
      this.pending.set(id, { resolve, reject, worker, onExit });
      worker.once('exit', onExit);
      worker.send({ ...message, id } as ToWorker);
    });
  }

  private sendSubscription(worker: Worker): void {
    const events = (['connection:start', 'connection:end', 'limit:hit', 'traffic', 'throughput'] as const).filter((event) => this.listenerCount(event) > 0);
    // A worker that exits meanwhile is replaced and told afresh.
    this.subscribed.set(worker, this.request(worker, { type: 'subscribe', events }).then(() => undefined, () => undefined));
  }

  /** Resolves once every ready worker has acknowledged the events wanted now (one still starting is told before it serves). */
  async eventsReady(): Promise<void> {
    // A listener added just before this call is broadcast in a microtask queued ahead of this one.
    await undefined;
    await Promise.all([...this.workers].filter((worker) => worker.isConnected()).map((worker) => this.subscribed.get(worker)));
  }

  /** The backends routing must skip now (unhealthy by their checks, or passively for a while), with why. */
  private down(): Record<string, string> {
    const down: Record<string, string> = {};
    for (const h of Object.values(this.local.health())) if (h.status === 'unhealthy') down[h.name] = h.reason ?? 'unhealthy';
    return down;
  }

  private broadcastHealth(): void {
    for (const worker of this.workers) this.tell(worker, { type: 'health', down: this.down() });
  }

  /** Sends unless the worker is gone; one exiting meanwhile is no error (it is replaced and told afresh). */
  private tell(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message, undefined, undefined, () => undefined);
  }

  private broadcastSubscription(): void {
    // A worker still starting is told when it is ready (spawn), before it serves anything.
    for (const worker of this.workers) if (worker.isConnected() && this.subscribed.has(worker)) this.sendSubscription(worker);
  }
}

// The workers accept on the shared sockets themselves (the kernel picks one per connection): only a worker's excess over its share passes through the primary (see balance-pool.ts).
cluster.schedulingPolicy = cluster.SCHED_NONE;
