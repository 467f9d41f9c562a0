import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import type { BackendSpec } from '../config/model.js';
import { addNetns, deleteNetns } from './netns.js';
import { OpenvpnRun } from './openvpn-tunnel.js';
import type { RunPlace, TunnelRun, TunnelUp } from './tunnel-run.js';
import { writeStatusFile, type TunnelState, type TunnelStatus } from './tunnel-status.js';
import { WireguardRun } from './wireguard-tunnel.js';

/** A tunnel backend's definition. */
export type TunnelSpec = Extract<BackendSpec, { type: 'wireguard' | 'openvpn' }>;

const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** A run that stayed up this long resets the backoff. */
const STABLE_MS = 30_000;
const PROBE_EVERY_MS = 5_000;

/** Events of a supervised tunnel. */
export interface SupervisorEvents {
  /** The tunnel's status changed (state, reason, addresses, handshake). */
  status: [TunnelStatus];
}

/**
 * Keeps one tunnel backend alive: owns its namespace, starts a run of the tunnel process,
 * restarts it with exponential backoff when it dies, probes the peer where the protocol allows,
 * and publishes every change as a status (event and status file for the engine processes).
 */
export class TunnelSupervisor extends EventEmitter<SupervisorEvents> {
  private run: TunnelRun | null = null;
  private current: TunnelStatus;
  private failures = 0;
  private upSince = 0;
  private retry: NodeJS.Timeout | null = null;
  private prober: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private spec: TunnelSpec,
    private readonly place: RunPlace,
    private readonly statusFile: string,
  ) {
    super();
    this.current = { name: spec.name, type: spec.type, state: 'starting', since: Date.now(), netns: place.netns, iface: place.iface, dns: [], addresses: [], restarts: 0 };
  }

  /** The latest status. */
  get status(): TunnelStatus {
    return this.current;
  }

  /** The definition this supervisor runs. */
  get definition(): TunnelSpec {
    return this.spec;
  }

  /** Creates the namespace and starts the first run (returns at once; watch `status`). */
  async start(): Promise<void> {
    try {
      await addNetns(this.place.netns);
    } catch (error) {
      this.publish({ state: 'down', reason: (error as Error).message }, true);
      throw error;
    }
    this.publish({}, true);
    void this.launch();
  }

  /** Resolves when the tunnel is up, or has failed once, or after `timeoutMs`: start never hangs on a silent peer. */
  settled(timeoutMs: number): Promise<TunnelStatus> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('status', check);
        resolve(this.current);
      };
      const check = (status: TunnelStatus): void => {
        if (status.state !== 'starting') done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('status', check);
      check(this.current);
    });
  }

  /** Runs a changed definition in the same namespace: the old process ends, a new one starts. */
  async replace(spec: TunnelSpec): Promise<void> {
    this.spec = spec;
    this.clearTimers();
    const old = this.run;
    this.run = null;
    await old?.stop();
    this.failures = 0;
    this.publish({ state: 'starting', reason: 'definition changed; restarting', type: spec.type, restarts: 0, dns: [], addresses: [], pid: undefined, lastHandshake: undefined });
    void this.launch();
  }

  /** Ends the tunnel process, deletes the namespace and the status file: nothing is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const run = this.run;
    this.run = null;
    await run?.stop();
    await deleteNetns(this.place.netns);
    this.publish({ state: 'stopped', reason: 'stopped', pid: undefined });
    rmSync(this.statusFile, { force: true });
  }

  private async launch(): Promise<void> {
    if (this.stopped) return;
    const run = this.spec.type === 'wireguard' ? new WireguardRun(this.place, this.spec.configFile) : new OpenvpnRun(this.place, this.spec.configFile, { authFile: this.spec.authFile, auth: this.spec.auth });
    this.run = run;
    run.on('up', (up) => this.run === run && this.onUp(run, up));
    run.on('down', (reason) => this.run === run && this.publish({ state: 'down', reason }));
    run.on('exit', (reason) => this.run === run && void this.onExit(run, reason));
    try {
      await run.start();
      if (this.run === run) this.publish({ pid: run.pid });
    } catch (error) {
      if (this.run === run) await this.onExit(run, (error as Error).message);
    }
  }

  private onUp(run: TunnelRun, up: TunnelUp): void {
    this.upSince = Date.now();
    const known = { dns: up.dns.length ? up.dns : this.current.dns, addresses: up.addresses.length ? up.addresses : this.current.addresses };
    if (!run.probe) {
      this.publish({ state: 'up', reason: undefined, ...known });
      return;
    }
    this.publish({ ...known, reason: 'waiting for the first handshake' });
    const probe = (): void => {
      if (this.run !== run) return;
      run.probe!().then(
        (answer) => {
          if (this.run !== run) return;
          if (answer.ok) this.publish({ state: 'up', reason: undefined, lastHandshake: answer.lastHandshake });
          else if (answer.pending) this.publish({ reason: answer.reason, lastHandshake: answer.lastHandshake });
          else this.publish({ state: 'down', reason: answer.reason, lastHandshake: answer.lastHandshake });
          this.prober = setTimeout(probe, this.current.state === 'up' ? PROBE_EVERY_MS : answer.pending ? 500 : 2_000);
        },
        () => {
          this.prober = setTimeout(probe, PROBE_EVERY_MS);
        },
      );
    };
    probe();
  }

  private async onExit(run: TunnelRun, reason: string): Promise<void> {
    this.run = null;
    this.clearTimers();
    await run.stop().catch(() => undefined);
    if (this.stopped) return;
    if (this.upSince && Date.now() - this.upSince > STABLE_MS) this.failures = 0;
    this.upSince = 0;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.failures);
    this.failures++;
    this.publish({ state: 'down', reason: `${reason}; restarting in ${delay / 1000} s`, pid: undefined });
    this.retry = setTimeout(() => {
      this.retry = null;
      this.publish({ restarts: this.current.restarts + 1 });
      void this.launch();
    }, delay);
  }

  private clearTimers(): void {
    if (this.retry) clearTimeout(this.retry);
    if (this.prober) clearTimeout(this.prober);
    this.retry = null;
    this.prober = null;
  }

  private publish(change: Partial<TunnelStatus> & { state?: TunnelState }, force = false): void {
    const next = { ...this.current, ...change };
    if (change.state !== undefined && change.state !== this.current.state) next.since = Date.now();
    const same = JSON.stringify(next) === JSON.stringify(this.current);
    this.current = next;
    if (same && !force) return;
    if (!this.stopped || next.state === 'stopped') {
      if (next.state !== 'stopped') writeStatusFile(this.statusFile, next);
      this.emit('status', next);
    }
  }
}
