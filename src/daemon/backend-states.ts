import type { ConfigSnapshot } from '../config/model.js';
import type { BackendView } from '../control/answers/backends.js';
import type { Engine, EngineStats } from '../engine/engine-api.js';
import { isCatchAll } from '../routing/shadowing.js';
import type { BackendHealthView } from '../telemetry/daemon-metrics.js';
import type { Readiness } from '../telemetry/metrics-server.js';
import type { TunnelManager } from '../tunnels/tunnel-manager.js';
import { describeBackends } from './views.js';

/**
 * Whether each backend can carry traffic, as the daemon reports it: its checks say so, and a
 * tunnel backend whose tunnel is not up cannot, whatever its last check said.
 */
export class BackendStates {
  constructor(
    private readonly now: () => { snapshot: ConfigSnapshot; engine: Engine },
    private readonly tunnels: TunnelManager,
  ) {}

  /** Why a tunnel backend cannot carry traffic now (null: it can, or it is no tunnel). */
  tunnelProblem(name: string): string | null {
    const status = this.tunnels.status(name);
    if (!status || status.state === 'up') return null;
    return `tunnel ${status.state === 'starting' ? 'not up yet' : status.state}${status.reason ? `: ${status.reason}` : ''}`;
  }

  /** Health for the metrics and readiness: an unchecked backend counts as healthy unless it cannot carry traffic at all (a tunnel that is not up cannot). */
  health(): BackendHealthView[] {
    const { snapshot, engine } = this.now();
    const health = engine.health();
    return snapshot.backends.map((b) => {
      const h = health[b.name];
      const healthy = b.unavailable === undefined && this.tunnelProblem(b.name) === null && h?.status !== 'unhealthy';
      return { name: b.name, healthy, latencySeconds: h?.latencyMs != null ? h.latencyMs / 1000 : null };
    });
  }

  /** The backend list with tunnels that are not up shown as unavailable, with the reason. */
  views(stats: Pick<EngineStats, 'backends'>): BackendView[] {
    const { snapshot, engine } = this.now();
    return describeBackends(snapshot, stats, engine.health()).map((view) => {
      const problem = this.tunnelProblem(view.name);
      return problem ? { ...view, status: 'unavailable', reason: problem } : view;
    });
  }

  /** Ready: a config is loaded and a backend of the catch-all rule (or, without one, any backend) is healthy. */
  readiness(stopping: boolean): Readiness {
    if (stopping) return { ready: false, reason: 'stopping' };
    const { snapshot } = this.now();
    const healthy = new Set(this.health().filter((b) => b.healthy).map((b) => b.name));
    const catchAll = snapshot.rules.find((r) => isCatchAll(r) && !r.reject);
    const candidates = catchAll ? catchAll.backends.map((b) => b.name) : snapshot.backends.map((b) => b.name);
    if (candidates.some((name) => healthy.has(name))) return { ready: true };
    return { ready: false, reason: catchAll ? `no healthy backend for rule "${catchAll.name}"` : 'no healthy backend' };
  }
}
