import type { Backend } from '../backends/backend.js';
import type { RuleSpec } from '../config/model.js';
import type { HealthSource } from '../health/health-source.js';

/** A load-balancing algorithm (`load_balancing.algorithm`). */
type Algorithm = NonNullable<RuleSpec['loadBalancing']>['algorithm'];

/** Something whose end is announced by a 'close' event (a socket, a response). */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

interface Member {
  backend: Backend;
  /** Weight 0 marks a fallback: used only when no weighted member is healthy. */
  weight: number;
  /** Why it can never work (a broken tunnel file), if so. */
  unavailable: string | undefined;
  /** Smooth weighted round-robin credit. */
  credit: number;
  /** Open connections (least_conn only). */
  active: number;
  /** Hash of the name, the seed of its rendezvous score. */
  seed: number;
}

const STICKY_LIMIT = 10_000;

/** A member as a preview sees it. */
export interface MemberView {
  name: string;
  weight: number;
  /** Why it cannot be used now (unhealthy, broken tunnel file), if so. */
  down?: string;
  /** Open connections (least_conn). */
  active?: number;
}

/** How a rule's backend would be chosen for a new connection now (`rule test`). */
export interface BackendChoice {
  /** The balancing algorithm; null for a rule with one backend. */
  algorithm: Algorithm | null;
  /**
   * `only`: one usable member; `client-address`: hashed from the client address (ip_hash, the
   * first pick of a sticky rule); `sticky`: the client's open sticky session; `per-connection`:
   * round robin, least connections or random pick per connection; `none`: every member is down.
   */
  basis: 'only' | 'client-address' | 'sticky' | 'per-connection' | 'none';
  /** The member the choice falls on, or the members it falls among when it depends on per-connection state (or on a client address not given). */
  candidates: string[];
  /** Whether the candidates are weight-0 fallbacks (no weighted member is usable). */
  fallback: boolean;
  /** Members skipped now, with why. */
  skipped: { name: string; reason: string }[];
}

/**
 * What picking among these members would do for a client, without picking (no round-robin
 * credit or sticky entry is spent). `sticky` is the member the client's sticky session holds.
 */
export function previewChoice(members: readonly MemberView[], balancing: RuleSpec['loadBalancing'], client?: string, sticky?: string): BackendChoice {
  const algorithm = balancing?.algorithm ?? 'round_robin';
  const base = { algorithm: members.length > 1 ? algorithm : null, skipped: members.filter((m) => m.down !== undefined).map((m) => ({ name: m.name, reason: m.down! })) };
  if (sticky !== undefined) return { ...base, basis: 'sticky', candidates: [sticky], fallback: false };
  for (const fallback of [false, true]) {
    const tier = members.filter((m) => m.down === undefined && (m.weight === 0) === fallback);
    if (tier.length === 0) continue;
    const weight = (m: MemberView): number => (fallback ? 1 : m.weight);
    if (tier.length === 1) return { ...base, basis: 'only', candidates: [tier[0].name], fallback };
    if (hashesClient(algorithm, balancing?.stickySessions === true)) {
      if (client === undefined) return { ...base, basis: 'client-address', candidates: tier.map((m) => m.name), fallback };
      const scores = tier.map((m) => score(client, seedOf(m.name), weight(m)));
      return { ...base, basis: 'client-address', candidates: [tier[scores.indexOf(Math.max(...scores))].name], fallback };
    }
    const load = (m: MemberView): number => (algorithm === 'least_conn' ? (m.active ?? 0) / weight(m) : 0);
    const least = Math.min(...tier.map(load));
    return { ...base, basis: 'per-connection', candidates: tier.filter((m) => load(m) === least).map((m) => m.name), fallback };
  }
  return { ...base, basis: 'none', candidates: [], fallback: false };
}

/** Whether the first pick hashes the client address: ip_hash, and sticky rules other than least_conn. */
function hashesClient(algorithm: Algorithm, sticky: boolean): boolean {
  return algorithm === 'ip_hash' || (sticky && algorithm !== 'least_conn');
}

/**
 * The members of one rule and how to pick among them: weighted round robin, least connections,
 * weighted random or client-address hashing, skipping unhealthy members and keeping clients on
 * their backend when sticky. State (round-robin credit, connection counts, the sticky table) is
 * this process's own.
 */
export class BackendGroup {
  private readonly members: Member[];
  private readonly algorithm: Algorithm;
  /** Client address → member, oldest first (bounded). */
  private readonly sticky: Map<string, Member> | null;
  private turn = 0;

  constructor(
    readonly rule: string,
    members: { backend: Backend; weight: number; unavailable?: string }[],
    private readonly balancing: RuleSpec['loadBalancing'],
    private readonly health: HealthSource,
  ) {
    this.members = members.map((m) => ({ backend: m.backend, weight: m.weight, unavailable: m.unavailable, credit: 0, active: 0, seed: seedOf(m.backend.name) }));
    this.algorithm = balancing?.algorithm ?? 'round_robin';
    this.sticky = balancing?.stickySessions ? new Map() : null;
  }

  /** The member for a client (its address), other than `exclude`; null when none is healthy. */
  pick(client: string, exclude?: Backend): Backend | null {
    if (this.sticky) {
      const kept = this.sticky.get(client);
      if (kept && kept.weight > 0 && kept.backend !== exclude && this.alive(kept)) {
        this.sticky.delete(client);
        this.sticky.set(client, kept);
        return kept.backend;
      }
    }
    const chosen = this.choose(false, client, exclude) ?? this.choose(true, client, exclude);
    if (!chosen) return null;
    if (this.sticky) {
      this.sticky.delete(client);
      this.sticky.set(client, chosen);
      if (this.sticky.size > STICKY_LIMIT) this.sticky.delete(this.sticky.keys().next().value!);
    }
    return chosen.backend;
  }

  /** What pick() would do for a client now, without picking. */
  preview(client?: string): BackendChoice {
    const views = this.members.map((m) => ({ name: m.backend.name, weight: m.weight, active: m.active, down: this.alive(m) ? undefined : this.downReason(m) }));
    const kept = client === undefined ? undefined : this.sticky?.get(client);
    return previewChoice(views, this.balancing, client, kept && kept.weight > 0 && this.alive(kept) ? kept.backend.name : undefined);
  }

  /** Counts an open connection on a member until it closes (for least_conn). */
  opened(backend: Backend, connection: Closable): void {
    if (this.algorithm !== 'least_conn') return;
    const member = this.members.find((m) => m.backend === backend);
    if (!member) return;
    member.active++;
    connection.once('close', () => member.active--);
  }

  /** Passes a live connection's outcome on to the member's passive check. */
  report(backend: Backend, ok: boolean, error?: string): void {
    this.health.report(backend.name, ok, error);
  }

  /** Why no member can be picked. */
  unhealthyReason(): string {
    const why = this.members.map((m) => `${m.backend.name}: ${this.downReason(m)}`);
    return `every backend of rule "${this.rule}" is unhealthy (${why.join('; ')})`;
  }

  private downReason(member: Member): string {
    return member.unavailable ?? this.health.reason(member.backend.name) ?? 'unhealthy';
  }

  private alive(member: Member): boolean {
    return member.unavailable === undefined && this.health.usable(member.backend.name);
  }

  private eligible(member: Member, fallback: boolean, exclude: Backend | undefined): boolean {
    return (member.weight === 0) === fallback && member.backend !== exclude && this.alive(member);
  }

  private choose(fallback: boolean, client: string, exclude: Backend | undefined): Member | null {
    const weight = (m: Member): number => (fallback ? 1 : m.weight);
    // Sticky first picks hash the client too, so every worker process makes the same first choice.
    if (hashesClient(this.algorithm, this.sticky !== null)) return this.rendezvous(fallback, client, exclude, weight);
    if (this.algorithm === 'least_conn') return this.leastConnections(fallback, exclude, weight);
    if (this.algorithm === 'random') return this.weightedRandom(fallback, exclude, weight);
    return this.roundRobin(fallback, exclude, weight);
  }

  /** Smooth weighted round robin: exact proportions, members interleaved. */
  private roundRobin(fallback: boolean, exclude: Backend | undefined, weight: (m: Member) => number): Member | null {
    let total = 0;
    let best: Member | null = null;
    for (const m of this.members) {
      if (!this.eligible(m, fallback, exclude)) continue;
      m.credit += weight(m);
      total += weight(m);
      if (!best || m.credit > best.credit) best = m;
    }
    if (best) best.credit -= total;
    return best;
  }

  private weightedRandom(fallback: boolean, exclude: Backend | undefined, weight: (m: Member) => number): Member | null {
    let total = 0;
    for (const m of this.members) if (this.eligible(m, fallback, exclude)) total += weight(m);
    let point = Math.random() * total;
    let last: Member | null = null;
    for (const m of this.members) {
      if (!this.eligible(m, fallback, exclude)) continue;
      last = m;
      point -= weight(m);
      if (point < 0) return m;
    }
    return last;
  }

  /** Fewest open connections per unit of weight; ties go round the members in turn. */
  private leastConnections(fallback: boolean, exclude: Backend | undefined, weight: (m: Member) => number): Member | null {
    const count = this.members.length;
    const start = this.turn++ % count;
    let best: Member | null = null;
    for (let i = 0; i < count; i++) {
      const m = this.members[(start + i) % count];
      if (!this.eligible(m, fallback, exclude)) continue;
      if (!best || m.active / weight(m) < best.active / weight(best)) best = m;
    }
    return best;
  }

  /**
   * Weighted rendezvous hashing of the client address: each client has a stable member, and when
   * a member leaves only its own clients move.
   */
  private rendezvous(fallback: boolean, client: string, exclude: Backend | undefined, weight: (m: Member) => number): Member | null {
    let best: Member | null = null;
    let bestScore = -1;
    for (const m of this.members) {
      if (!this.eligible(m, fallback, exclude)) continue;
      const value = score(client, m.seed, weight(m));
      if (value > bestScore) {
        best = m;
        bestScore = value;
      }
    }
    return best;
  }
}

/** A member's weighted rendezvous score for a client address. */
function score(client: string, seed: number, weight: number): number {
  const unit = (mix(fnv(client, seed)) + 0.5) / 4_294_967_296;
  return weight / -Math.log(unit);
}

/** A member's rendezvous seed: the hash of its name. */
function seedOf(name: string): number {
  return fnv(name, 0x811c9dc5);
}

/** FNV-1a over a string's UTF-16 code units, from a seed. */
function fnv(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Murmur3's finaliser: spreads FNV's weak low bits over the whole word. */
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
