import { EventEmitter } from 'node:events';
import type { Backend, Target } from '../backends/backend.js';
import type { BackendSpec, ConfigSnapshot } from '../config/model.js';
import { checkSettings, DEFAULT_PROBE_TARGET, PASSIVE, type CheckSettings } from './check-settings.js';
import type { HealthSource } from './health-source.js';
import { BackendHealthState, type BackendHealth, type BackendHealthEvent } from './health-state.js';
import { probe, type ProbeResult, type ProbeSpec } from './probe.js';

/** Events of the checker. */
export interface HealthCheckerEvents {
  /** A backend's status changed. */
  change: [BackendHealthEvent];
}

/** What a live check (`backend test`) did. */
export interface LiveCheck extends ProbeResult {
  type: CheckSettings['type'];
  /** What was reached through the backend: host:port, the URL, or the pinged host. */
  target: string;
}

interface Entry {
  spec: string;
  settings: CheckSettings;
  backend: Backend;
  state: BackendHealthState;
  timer: NodeJS.Timeout | null;
  /** Bumped whenever the check is replaced or stopped: a probe of an older generation is ignored. */
  generation: number;
}

/** Passive health of a backend without active checks, and the timer that ends its unhealthy mark. */
interface PassiveEntry {
  spec: string;
  state: BackendHealthState;
  hold: NodeJS.Timeout | null;
}

/**
 * Runs the active checks of every checked backend (each on its own timer, concurrently, off the
 * traffic path), takes the passive reports of live traffic (for every backend: the only health
 * an unchecked one has), and keeps each backend's state. A reload keeps the state of every
 * backend whose definition did not change.
 */
export class HealthChecker extends EventEmitter<HealthCheckerEvents> implements HealthSource {
  private readonly entries = new Map<string, Entry>();
  private readonly passive = new Map<string, PassiveEntry>();
  private specs: BackendSpec[] = [];
  private running = false;

  /** Follows a (new) snapshot and the live backends built for it. */
  sync(config: ConfigSnapshot, backends: ReadonlyMap<string, Backend>): void {
    this.specs = config.backends;
    const wanted = checkSettings(config);
    for (const [name, entry] of this.passive) {
      const spec = config.backends.find((b) => b.name === name);
      if (spec && !wanted.has(name) && JSON.stringify(spec) === entry.spec) continue;
      if (entry.hold) clearTimeout(entry.hold);
      this.passive.delete(name);
    }
    for (const [name, entry] of this.entries) {
      if (!wanted.has(name)) {
        this.halt(entry);
        this.entries.delete(name);
      }
    }
    for (const [name, settings] of wanted) {
      const spec = JSON.stringify(config.backends.find((b) => b.name === name));
      const backend = backends.get(name)!;
      const entry = this.entries.get(name);
      if (entry && entry.spec === spec && entry.backend === backend && JSON.stringify(entry.settings) === JSON.stringify(settings)) continue;
      if (entry) this.halt(entry);
      const state = entry && entry.spec === spec ? entry.state : new BackendHealthState();
      const next: Entry = { spec, settings, backend, state, timer: null, generation: (entry?.generation ?? 0) + 1 };
      this.entries.set(name, next);
      if (this.running) void this.run(name, next);
    }
  }

  /** Starts checking (the first check of every backend runs at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const [name, entry] of this.entries) void this.run(name, entry);
  }

  /** Stops every check; results still in flight are dropped. */
  stop(): void {
    this.running = false;
    for (const entry of this.entries.values()) this.halt(entry);
    for (const entry of this.passive.values()) if (entry.hold) clearTimeout(entry.hold);
  }

  /**
   * Runs a backend's check at once instead of at its next tick (a tunnel that just came back up
   * need not wait out the interval); the interval restarts from there.
   */
  checkNow(name: string): void {
    const entry = this.entries.get(name);
    if (!entry || !this.running) return;
    this.halt(entry);
    void this.run(name, entry);
  }

  /** False while the backend is marked unhealthy (by its checks, or passively for a while). */
  usable(name: string): boolean {
    return (this.entries.get(name)?.state ?? this.passive.get(name)?.state)?.status !== 'unhealthy';
  }

  /** Why the backend is marked unhealthy. */
  reason(name: string): string | undefined {
    return (this.entries.get(name)?.state ?? this.passive.get(name)?.state)?.reason;
  }

  /**
   * A live connection's outcome: consecutive failures mark a checked backend unhealthy before the
   * next check would; for an unchecked one they are its passive health (see PASSIVE).
   */
  report(name: string, ok: boolean, error?: string): void {
    const entry = this.entries.get(name);
    if (!entry) return this.reportPassive(name, ok, error);
    if (ok && entry.state.consecutiveFailures === 0 && entry.state.credentials === 'accepted') return;
    if (entry.state.recordTraffic(ok, error, entry.settings)) this.emit('change', entry.state.event(name));
  }

  /** Every backend of the snapshot with its health (unchecked ones are unknown, or unhealthy when they cannot work at all). */
  health(): Record<string, BackendHealth> {
    const all: Record<string, BackendHealth> = {};
    for (const spec of this.specs) {
      const entry = this.entries.get(spec.name);
      const passive = this.passive.get(spec.name);
      all[spec.name] = entry
        ? entry.state.view(spec.name)
        : passive && !spec.unavailable
        ? passive.state.view(spec.name, false)
        : {
            name: spec.name,
            status: spec.unavailable ? 'unhealthy' : 'unknown',
            checked: false,
            since: null,
            lastCheck: null,
            latencyMs: null,
            consecutiveFailures: 0,
            uptimePercent: null,
            checks: 0,
            reason: spec.unavailable ?? 'no health check configured',
          };
    }
    return all;
  }

  /**
   * Runs one check now through the backend, without changing its state: its configured check,
   * or a tcp check (to `target` when given, else to the configured or default probe target).
   */
  async check(backend: Backend, timeoutMs: number, target?: Target): Promise<LiveCheck> {
    // The client's light check of its server says nothing of the path through it: a test still goes through.
    const own = this.entries.get(backend.name)?.settings;
    const configured = own?.advisory ? undefined : own;
    const settings: ProbeSpec =
      configured && !target ? configured : { type: 'tcp', target: target ?? configured?.target ?? DEFAULT_PROBE_TARGET, timeoutMs: configured?.timeoutMs ?? timeoutMs };
    const result = await probe(backend, settings);
    const where = settings.type === 'http' ? settings.http!.url : settings.type === 'ping' ? settings.target.host : `${settings.target.host}:${settings.target.port}`;
    return { ...result, type: settings.type, target: where };
  }

  private async run(name: string, entry: Entry): Promise<void> {
    const generation = entry.generation;
    const started = Date.now();
    const result = await probe(entry.backend, entry.settings);
    if (!this.running || entry.generation !== generation) return;
    if (entry.state.recordCheck(result.ok, result.latencyMs, result.error, entry.settings)) this.emit('change', entry.state.event(name));
    entry.timer = setTimeout(() => void this.run(name, entry), Math.max(0, entry.settings.intervalMs - (Date.now() - started)));
    entry.timer.unref();
  }

  private reportPassive(name: string, ok: boolean, error: string | undefined): void {
    let entry = this.passive.get(name);
    if (ok && entry?.state.status === 'healthy') return;
    if (!entry) {
      const spec = this.specs.find((b) => b.name === name);
      if (!spec) return;
      entry = { spec: JSON.stringify(spec), state: new BackendHealthState(), hold: null };
      this.passive.set(name, entry);
    }
    const { state } = entry;
    if (!state.recordPassive(ok, error, PASSIVE.unhealthyThreshold)) return;
    if (entry.hold) clearTimeout(entry.hold);
    entry.hold = null;
    if (state.status === 'unhealthy') {
      const held = entry;
      entry.hold = setTimeout(() => {
        held.hold = null;
        if (held.state.expire()) this.emit('change', held.state.event(name));
      }, PASSIVE.holdMs);
      entry.hold.unref();
    }
    this.emit('change', state.event(name));
  }

  private halt(entry: Entry): void {
    entry.generation++;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
  }
}
