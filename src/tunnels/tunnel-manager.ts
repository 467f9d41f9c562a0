import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendSpec, ConfigSnapshot } from '../config/model.js';
import { tunnelSupportProblem } from './host-support.js';
import { removeLeftovers } from './netns.js';
import { openvpnProfileProblem } from './openvpn-tunnel.js';
import { tunnelNames, type TunnelNames } from './tunnel-names.js';
import type { TunnelStatus } from './tunnel-status.js';
import { TunnelSupervisor, type TunnelSpec } from './tunnel-supervisor.js';

/** How long start and reload wait for new tunnels before going on without them. */
const SETTLE_MS = 12_000;

/** Events of the tunnel manager. */
export interface TunnelManagerEvents {
  /** A tunnel's status changed: `up` carries traffic; anything else makes its backend unhealthy. */
  'tunnel:status': [TunnelStatus];
}

const isTunnel = (b: BackendSpec): b is TunnelSpec => b.type === 'wireguard' || b.type === 'openvpn';
const definition = (b: TunnelSpec): string => JSON.stringify({ ...b, healthCheck: undefined });

/**
 * Owns the daemon's tunnels (once, in the primary process): brings them up concurrently,
 * applies reloads tunnel by tunnel (added, removed, changed; the others are not touched),
 * tears everything down at stop, and removes what a killed previous run left behind.
 */
export class TunnelManager extends EventEmitter<TunnelManagerEvents> {
  private readonly names: TunnelNames;
  private readonly dir: string;
  private readonly supervisors = new Map<string, TunnelSupervisor>();

  constructor(stateDir: string, runtimeDir: string) {
    super();
    this.names = tunnelNames(stateDir);
    this.dir = join(runtimeDir, 'tunnels');
  }

  /** Removes leftovers of a previous run of this daemon (after kill -9); returns what it removed. */
  async cleanup(): Promise<string[]> {
    const removed = process.platform === 'linux' ? await removeLeftovers(this.names.netnsPrefix, this.names.ifacePrefix).catch(() => []) : [];
    try {
      for (const file of readdirSync(this.dir)) rmSync(join(this.dir, file), { force: true });
    } catch {
      // No tunnel dir yet.
    }
    return removed;
  }

  /**
   * The snapshot the engines run on: each tunnel backend either names its namespace and status
   * file, or is unavailable with the reason (no namespaces, no root, a program missing, a
   * profile the daemon will not run).
   */
  prepare(snapshot: ConfigSnapshot): ConfigSnapshot {
    const warnings = [...snapshot.warnings];
    const backends = snapshot.backends.map((b): BackendSpec => {
      if (!isTunnel(b) || b.unavailable) return b;
      const problem = tunnelSupportProblem(b.type) ?? (b.type === 'openvpn' ? openvpnProfileProblem(b.configFile, { authFile: b.authFile, auth: b.auth }) : null);
      if (problem) {
        warnings.push(`backend "${b.name}" is unavailable: ${problem}`);
        return { ...b, unavailable: problem };
      }
      const netns = this.names.netns(b.name);
      return { ...b, tunnel: { netns, statusFile: join(this.dir, `${netns}.json`) } };
    });
    return { ...snapshot, backends, warnings };
  }

  /**
   * Makes the running tunnels match a prepared snapshot: stops removed ones, restarts changed
   * ones, starts new ones (concurrently), and waits (bounded) until each new one is up or has
   * failed once. `progress` hears which tunnels are coming up, then one line per tunnel as it settles.
   */
  async apply(snapshot: ConfigSnapshot, progress?: (line: string) => void, waitMs = SETTLE_MS): Promise<TunnelStatus[]> {
    const wanted = new Map(snapshot.backends.filter((b): b is TunnelSpec => isTunnel(b) && b.tunnel !== undefined).map((b) => [b.name, b]));
    const gone = [...this.supervisors.entries()].filter(([name]) => !wanted.has(name));
    await Promise.all(
      gone.map(async ([name, supervisor]) => {
        this.supervisors.delete(name);
        await supervisor.stop();
      }),
    );
    const started: TunnelSupervisor[] = [];
    const fresh = new Set<TunnelSupervisor>();
    for (const [name, spec] of wanted) {
      const existing = this.supervisors.get(name);
      if (existing && definition(existing.definition) === definition(spec)) continue;
      if (existing) {
        await existing.replace(spec);
        started.push(existing);
        continue;
      }
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const supervisor = new TunnelSupervisor(spec, { name, netns: spec.tunnel!.netns, iface: this.names.iface(name), dir: this.dir }, spec.tunnel!.statusFile);
      supervisor.on('status', (status) => this.emit('tunnel:status', status));
      this.supervisors.set(name, supervisor);
      started.push(supervisor);
      fresh.add(supervisor);
    }
    const t0 = Date.now();
    // Said at once: bringing a tunnel up takes seconds, and start would otherwise sit silent until the first one settles.
    if (waitMs > 0 && started.length > 0) progress?.(`bringing up ${started.length} tunnel${started.length > 1 ? 's' : ''}: ${started.map((s) => `"${s.definition.name}" (${s.definition.type})`).join(', ')}`);
    return Promise.all(
      started.map(async (supervisor) => {
        if (fresh.has(supervisor)) {
          try {
            await supervisor.start();
          } catch (error) {
            progress?.(`tunnel "${supervisor.definition.name}": ${(error as Error).message}`);
            return supervisor.status;
          }
        }
        const status = await supervisor.settled(waitMs);
        const took = ((Date.now() - t0) / 1000).toFixed(1);
        if (waitMs > 0) progress?.(`tunnel "${status.name}" (${status.type}): ${status.state === 'up' ? `up in ${took} s` : `${status.state === 'starting' ? 'not up yet' : status.state} after ${took} s${status.reason ? `: ${status.reason}` : ''}`}`);
        return status;
      }),
    );
  }

  /** The status of one tunnel backend, if the daemon runs it. */
  status(name: string): TunnelStatus | undefined {
    return this.supervisors.get(name)?.status;
  }

  /** Every tunnel's status. */
  list(): TunnelStatus[] {
    return [...this.supervisors.values()].map((s) => s.status);
  }

  /** Tears every tunnel down: no process, namespace, interface or socket is left. */
  async stop(): Promise<void> {
    const all = [...this.supervisors.values()];
    this.supervisors.clear();
    await Promise.all(all.map((s) => s.stop().catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
