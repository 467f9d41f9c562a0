import { lookup } from 'node:dns';
import type { ConfigSnapshot, RuleSpec } from '../config/model.js';
import type { Backend } from '../backends/backend.js';
import { createBackend, type BackendContext } from '../backends/create-backend.js';
import { checkSettings } from '../health/check-settings.js';
import type { HealthSource } from '../health/health-source.js';
import { BackendGroup, type BackendChoice } from '../routing/load-balancer.js';
import { configuredChoice } from '../routing/route-explanation.js';
import { Router } from '../routing/router.js';
import { NO_RULE_SETS, type RouteQuery, type RuleSetSource } from '../routing/route-query.js';

/** Where a host goes under one snapshot; `rejected`: a rule with `action: reject` matched. */
export type Resolution =
  | { ok: true; rule: string; backend: Backend; group?: BackendGroup; passive?: HealthSource }
  | { ok: false; rule?: string; reason: string; unhealthy?: true; rejected?: true; udpUnsupported?: true };

/** What building a runtime needs besides the snapshot: the loop guard, where backend health comes from, and the rule sets. */
export type RuntimeContext = Omit<BackendContext, 'network'> & { health?: HealthSource; ruleSets?: RuleSetSource };

const ALWAYS_HEALTHY: HealthSource = { usable: () => true, reason: () => undefined, report: () => undefined };

/**
 * Everything built from one config snapshot: the router and the live backends. Immutable once
 * built; a connection keeps the runtime it started with, so a reload never changes its route.
 */
export class Runtime {
  readonly router: Router;
  /** Some rule says `sniff: true`. */
  private readonly sniffingRules: boolean;
  readonly backends: ReadonlyMap<string, Backend>;
  /** Per rule (by index): a fixed answer, or the group its member is picked from per connection. */
  private readonly routes: (Resolution | BackendGroup)[];

  private constructor(
    readonly config: ConfigSnapshot,
    backends: Map<string, Backend>,
    health: HealthSource,
    previous: Runtime | undefined,
    ruleSets: RuleSetSource,
  ) {
    this.router = new Router(config.rules, ruleSets);
    this.sniffingRules = config.rules.some((rule) => rule.sniff === true);
    this.backends = backends;
    const checked = checkSettings(config);
    this.routes = config.rules.map((rule) => {
      if (rule.reject) return { ok: false, rule: rule.name, reason: `rejected by rule "${rule.name}"`, rejected: true };
      const only = rule.backends.length === 1 ? rule.backends[0] : undefined;
      // A single unchecked (or only advisorily checked) backend needs no decision per connection: the answer is built once; its outcomes are the backend's passive health.
      if (only && (checked.get(only.name)?.advisory ?? true)) {
        const backend = backends.get(only.name);
        return backend
          ? { ok: true, rule: rule.name, backend, passive: health }
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
    return { runtime: new Runtime(config, backends, context.health ?? ALWAYS_HEALTHY, previous, context.ruleSets ?? NO_RULE_SETS), retired };
  }

  /** The rule and backend for a query (first match wins); among several members, the one for the query's client address. */
  resolve(query: RouteQuery): Resolution {
    const match = this.router.route(query);
    if (!match) return { ok: false, reason: `no routing rule matches ${query.host}` };
    const first = this.resolveAt(match.index, query.client);
    if (query.protocol !== 'udp' || !first.ok || first.backend.openUdp) return first;
    return this.resolveUdp(query);
  }

  /**
   * UDP whose first matching rule has a backend that cannot carry it (an HTTP upstream): refused
   * with the reason, unless the rule says `udp: skip`; then the next matching rule is tried.
   */
  private resolveUdp(query: RouteQuery): Resolution {
    const skipped: string[] = [];
    for (const hit of this.router.explain(query.host)) {
      const rule = this.config.rules[hit.index];
      const resolution = this.resolveAt(hit.index, query.client);
      if (resolution.ok && resolution.backend.openUdp) return resolution;
      if (!rule.udpSkip) {
        if (!resolution.ok) return resolution;
        const after = skipped.length > 0 ? ` (after skipping ${skipped.join(', ')})` : '';
        return { ok: false, rule: rule.name, reason: `rule "${rule.name}": backend "${resolution.backend.name}" cannot carry UDP${after}; "udp: skip" on the rule lets UDP go on to the next matching rule`, udpUnsupported: true };
      }
      skipped.push(`rule "${rule.name}"`);
    }
    return { ok: false, reason: `no matching rule has a backend that carries UDP (skipped ${skipped.join(', ')})`, udpUnsupported: true };
  }

  /** The backend rule `index` gives this client now (health and balancing as for `resolve`). */
  resolveAt(index: number, client = ''): Resolution {
    const route = this.routes[index];
    if (!(route instanceof BackendGroup)) return route;
    const backend = route.pick(client);
    if (!backend) return { ok: false, rule: route.rule, reason: route.unhealthyReason(), unhealthy: true };
    return { ok: true, rule: route.rule, backend, group: route };
  }

  /**
   * resolve(), first looking the name up when a rule with `resolve: true` and IP keys could win
   * (bounded by the connect timeout; a failed lookup leaves those rules unmatched). Without such
   * a rule `done` runs at once, with no promise or timer.
   */
  route(query: RouteQuery, done: (resolution: Resolution) => void): void {
    if (!this.needsLookup(query)) return done(this.resolve(query));
    let answered = false;
    const answer = (addresses: readonly string[]): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      done(this.resolve({ ...query, addresses }));
    };
    const timer = setTimeout(() => answer([]), this.config.network.timeouts.connectMs);
    lookup(query.host, { all: true }, (error, found) => answer(error ? [] : found.map((a) => a.address)));
  }

  /** Whether route() must look the query's name up first; when not, resolve() answers the same at once. */
  needsLookup(query: RouteQuery): boolean {
    return this.router.needsAddresses(query);
  }

  /**
   * Whether a tunnel to an IP-literal target is routed by the name its first bytes carry: the
   * config's `sniff`, or the rule the address alone would take says `sniff: true`.
   */
  wantsSniff(query: RouteQuery): boolean {
    if (this.config.sniff === true) return true;
    return this.sniffingRules && this.router.route(query)?.rule.sniff === true;
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
