import type { ConfigSnapshot, RuleSpec } from '../config/model.js';
import type { Backend } from '../backends/backend.js';
import { createBackend, type BackendContext } from '../backends/create-backend.js';
import { checkSettings } from '../health/check-settings.js';
import type { HealthSource } from '../health/health-source.js';
import { BackendGroup, type BackendChoice } from '../routing/load-balancer.js';
import { configuredChoice } from '../routing/route-explanation.js';
import type { RouteQuery } from '../routing/route-query.js';
import { Router } from '../routing/router.js';

/** Where a host goes under one snapshot. */
export type Resolution =
  | { ok: true; rule: string; backend: Backend; group?: BackendGroup }
  | { ok: false; rule?: string; reason: string; unhealthy?: true };

/** What building a runtime needs besides the snapshot: the loop guard and where backend health comes from. */
export type RuntimeContext = Omit<BackendContext, 'network'> & { health?: HealthSource };

const ALWAYS_HEALTHY: HealthSource = { usable: () => true, reason: () => undefined, report: () => undefined };

/**
 * Everything built from one config snapshot: the router and the live backends. Immutable once
 * built; a connection keeps the runtime it started with, so a reload never changes its route.
 */
export class Runtime {
  readonly router: Router;
  readonly backends: ReadonlyMap<string, Backend>;
  /** Per rule (by index): a fixed answer, or the group its member is picked from per connection. */
  private readonly routes: (Resolution | BackendGroup)[];

  private constructor(
    readonly config: ConfigSnapshot,
    backends: Map<string, Backend>,
    health: HealthSource,
    previous: Runtime | undefined,
  ) {
    this.router = new Router(config.rules);
    this.backends = backends;
    const checked = checkSettings(config);
    this.routes = config.rules.map((rule) => {
      const only = rule.backends.length === 1 ? rule.backends[0] : undefined;
      // A single unchecked backend needs no decision per connection: the answer is built once.
      if (only && !checked.has(only.name)) {
        const backend = backends.get(only.name);
        return backend
          ? { ok: true, rule: rule.name, backend }
          : { ok: false, rule: rule.name, reason: `rule "${rule.name}" names no usable backend` };
      }
      return previous?.reusableGroup(rule, backends) ?? this.group(rule, health);
    });
  }

  /**
   * Builds the runtime for a snapshot, reusing backends of `previous` whose definition and the
   * network settings did not change (their connection pools survive the reload), and the
   * balancing state of rules that did not change.
   */
  static build(config: ConfigSnapshot, context: RuntimeContext, previous?: Runtime): { runtime: Runtime; retired: Backend[] } {
    const backends = new Map<string, Backend>();
    const sameNetwork = previous !== undefined && JSON.stringify(previous.config.network) === JSON.stringify(config.network);
    for (const spec of config.backends) {
      const before = previous?.config.backends.find((b) => b.name === spec.name);
      const reuse = sameNetwork && before !== undefined && JSON.stringify(before) === JSON.stringify(spec);
      backends.set(spec.name, reuse ? previous!.backends.get(spec.name)! : createBackend(spec, { guard: context.guard, network: config.network }));
    }
    const retired = previous ? [...previous.backends.values()].filter((b) => ![...backends.values()].includes(b)) : [];
    return { runtime: new Runtime(config, backends, context.health ?? ALWAYS_HEALTHY, previous), retired };
  }

  /** The rule and backend for a request (first match wins); among several members, the one for its client address. */
  resolve(query: RouteQuery): Resolution {
    const match = this.router.route(query.host);
    if (!match) return { ok: false, reason: `no routing rule matches ${query.host}` };
    const route = this.routes[match.index];
    if (!(route instanceof BackendGroup)) return route;
    const backend = route.pick(query.client);
    if (!backend) return { ok: false, rule: route.rule, reason: route.unhealthyReason(), unhealthy: true };
    return { ok: true, rule: route.rule, backend, group: route };
  }

  /** How rule `index` would choose its backend for a client now, without choosing. */
  preview(index: number, client?: string): BackendChoice {
    const route = this.routes[index];
    if (route instanceof BackendGroup) return route.preview(client);
    // A fixed answer: health is not consulted, only whether the backend can carry traffic at all.
    return configuredChoice(this.config, index, client);
  }

  private group(rule: RuleSpec, health: HealthSource): BackendGroup {
    const members = rule.backends.map((m) => ({ backend: this.backends.get(m.name)!, weight: m.weight, unavailable: this.config.backends.find((b) => b.name === m.name)?.unavailable }));
    return new BackendGroup(rule.name, members, rule.loadBalancing, health);
  }

  /** This runtime's group for a rule, when the rule and its members' backends are unchanged in the next one. */
  private reusableGroup(rule: RuleSpec, backends: ReadonlyMap<string, Backend>): BackendGroup | undefined {
    const before = this.config.rules.findIndex((r) => r.name === rule.name);
    const route = this.routes[before];
    if (before === -1 || !(route instanceof BackendGroup) || JSON.stringify(this.config.rules[before]) !== JSON.stringify(rule)) return undefined;
    if (rule.backends.some((m) => this.backends.get(m.name) !== backends.get(m.name))) return undefined;
    return route;
  }
}
