import type { ConfigSnapshot } from '../config/model.js';
import type { Backend } from '../backends/backend.js';
import { createBackend, type BackendContext } from '../backends/create-backend.js';
import { Router } from '../routing/router.js';

/** Where a host goes under one snapshot. */
export type Resolution =
  | { ok: true; rule: string; backend: Backend }
  | { ok: false; rule?: string; reason: string };

/**
 * Everything built from one config snapshot: the router and the live backends. Immutable once
 * built; a connection keeps the runtime it started with, so a reload never changes its route.
 */
export class Runtime {
  readonly router: Router;
  readonly backends: ReadonlyMap<string, Backend>;

  private constructor(
    readonly config: ConfigSnapshot,
    backends: Map<string, Backend>,
  ) {
    this.router = new Router(config.rules);
    this.backends = backends;
  }

  /**
   * Builds the runtime for a snapshot, reusing backends of `previous` whose definition and the
   * network settings did not change (their connection pools survive the reload).
   */
  static build(config: ConfigSnapshot, context: Omit<BackendContext, 'network'>, previous?: Runtime): { runtime: Runtime; retired: Backend[] } {
    const backends = new Map<string, Backend>();
    const sameNetwork = previous !== undefined && JSON.stringify(previous.config.network) === JSON.stringify(config.network);
    for (const spec of config.backends) {
      const before = previous?.config.backends.find((b) => b.name === spec.name);
      const reuse = sameNetwork && before !== undefined && JSON.stringify(before) === JSON.stringify(spec);
      backends.set(spec.name, reuse ? previous!.backends.get(spec.name)! : createBackend(spec, { ...context, network: config.network }));
    }
    const retired = previous ? [...previous.backends.values()].filter((b) => ![...backends.values()].includes(b)) : [];
    return { runtime: new Runtime(config, backends), retired };
  }

  /** The rule and backend for a host (first match wins). */
  resolve(host: string): Resolution {
    const match = this.router.route(host);
    if (!match) return { ok: false, reason: `no routing rule matches ${host}` };
    const member = match.rule.backends[0];
    const backend = member ? this.backends.get(member.name) : undefined;
    if (!backend) return { ok: false, rule: match.rule.name, reason: `rule "${match.rule.name}" names no usable backend` };
    return { ok: true, rule: match.rule.name, backend };
  }
}
