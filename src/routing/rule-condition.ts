import { isIP } from 'node:net';
import type { MatchSpec } from '../config/match-schema.js';
import { CidrSet } from './cidr-set.js';
import { normalizeHost, parseDomainPattern, patternMatches } from './domain-pattern.js';
import { DomainMatcher } from './domain-matcher.js';
import type { LoadedRuleSet, RouteQuery, RuleSetSource } from './route-query.js';

/** Why a condition holds: the key and the entry that matched (`ip_cidr` `10.0.0.0/8`). */
export interface KeyHit {
  key: string;
  entry: string;
}

/** A compiled `match:`: a cheap test for routing, and an explanation for `rule test`. */
export interface Condition {
  test(query: RouteQuery): boolean;
  /** The keys and entries that made it hold, or null when it does not. */
  explain(query: RouteQuery): KeyHit[] | null;
}

/**
 * The first target address of a query (the IP literal itself, or with resolve what the name
 * resolved to) for which `hit` gives a result, or null; no array is made per query.
 */
function firstTarget<T>(query: RouteQuery, resolve: boolean, hit: (address: string) => T | null): T | null {
  const host = stripBrackets(query.host);
  if (isIP(host) !== 0) return hit(host);
  if (query.sniffedFrom !== undefined) return hit(query.sniffedFrom);
  if (!resolve || query.addresses === undefined) return null;
  for (const address of query.addresses) {
    const found = hit(address);
    if (found !== null) return found;
  }
  return null;
}

function stripBrackets(host: string): string {
  return host.charCodeAt(0) === 91 ? host.slice(1, -1) : host;
}

/** A test that can say which entry held. */
type Leaf = { key: string; find(query: RouteQuery): string | null; test(query: RouteQuery): boolean };

function domainsLeaf(patterns: readonly string[]): Leaf {
  const matcher = new DomainMatcher();
  for (const p of patterns) matcher.add(p, 0);
  const parsed = patterns.map((p) => ({ text: p, pattern: parseDomainPattern(p) }));
  return {
    key: 'domains',
    test: (q) => matcher.match(q.host) !== -1,
    find: (q) => {
      const name = normalizeHost(q.host);
      return parsed.find((p) => patternMatches(p.pattern, name))?.text ?? null;
    },
  };
}

function cidrLeaf(key: string, blocks: readonly string[], resolve: boolean | 'source'): Leaf {
  const set = CidrSet.of(blocks);
  const at = (address: string): number | null => {
    const found = set.lookup(address);
    return found === -1 ? null : found;
  };
  const index = (q: RouteQuery): number | null => (resolve === 'source' ? at(q.client) : firstTarget(q, resolve, at));
  return {
    key,
    test: (q) => index(q) !== null,
    find: (q) => {
      const found = index(q);
      return found === null ? null : set.describe(found);
    },
  };
}

function portsLeaf(ports: readonly (number | string)[]): Leaf {
  const ranges = ports.map((p) => (typeof p === 'number' ? [p, p] : p.split('-').map(Number)));
  const find = (q: RouteQuery): string | null => {
    const hit = ports.find((_, i) => q.port >= ranges[i][0] && q.port <= ranges[i][1]);
    return hit === undefined ? null : String(hit);
  };
  return { key: 'ports', find, test: (q) => ranges.some(([low, high]) => q.port >= low && q.port <= high) };
}

function listLeaf(key: string, values: readonly string[], of: (q: RouteQuery) => readonly string[]): Leaf {
  const wanted = new Set(values);
  const find = (q: RouteQuery): string | null => of(q).find((v) => wanted.has(v)) ?? null;
  return { key, find, test: (q) => find(q) !== null };
}

function ruleSetLeaf(name: string, sets: RuleSetSource, resolve: boolean): Leaf {
  const index = (q: RouteQuery): { at: number; set: LoadedRuleSet } | null => {
    const set = sets.get(name);
    if (set === undefined) return null;
    const lookup = (key: string): { at: number; set: LoadedRuleSet } | null => {
      const at = set.lookup(key);
      return at === -1 ? null : { at, set };
    };
    return set.kind === 'domains' ? lookup(q.host) : firstTarget(q, resolve, lookup);
  };
  return {
    key: 'rule_set',
    test: (q) => index(q) !== null,
    find: (q) => {
      const found = index(q);
      return found === null ? null : `${name}: ${found.set.describe(found.at)}`;
    },
  };
}

/** A WebSocket upgrade is an HTTP request to the rules. */
const protocolOf = (q: RouteQuery): readonly string[] => (q.protocol === undefined ? [] : [q.protocol === 'upgrade' ? 'http' : q.protocol]);

/**
 * Compiles a `match:`: every key given must hold (the cheapest tests run first), `not` inverts a
 * nested match, `any` needs one of its matches, `all` every one. `resolve` lets IP keys see the
 * addresses a name resolved to.
 */
export function compileMatch(match: MatchSpec, sets: RuleSetSource, resolve = false): Condition {
  const leaves: Leaf[] = [];
  if (match.protocols) leaves.push(listLeaf('protocols', match.protocols, protocolOf));
  if (match.ports) leaves.push(portsLeaf(match.ports));
  if (match.users) leaves.push(listLeaf('users', match.users, (q) => (q.user === undefined ? [] : [q.user])));
  if (match.groups) leaves.push(listLeaf('groups', match.groups, (q) => q.groups ?? []));
  if (match.source_cidr) leaves.push(cidrLeaf('source_cidr', match.source_cidr, 'source'));
  if (match.domains) leaves.push(domainsLeaf(match.domains));
  if (match.ip_cidr) leaves.push(cidrLeaf('ip_cidr', match.ip_cidr, resolve));
  if (match.rule_set !== undefined) leaves.push(ruleSetLeaf(match.rule_set, sets, resolve));
  const not = match.not ? compileMatch(match.not, sets, resolve) : null;
  const any = match.any?.map((m) => compileMatch(m, sets, resolve)) ?? null;
  const all = match.all?.map((m) => compileMatch(m, sets, resolve)) ?? null;
  return {
    test(q) {
      for (const leaf of leaves) if (!leaf.test(q)) return false;
      if (not && not.test(q)) return false;
      if (any && !any.some((c) => c.test(q))) return false;
      if (all && !all.every((c) => c.test(q))) return false;
      return true;
    },
    explain(q) {
      const hits: KeyHit[] = [];
      for (const leaf of leaves) {
        const entry = leaf.find(q);
        if (entry === null) return null;
        hits.push({ key: leaf.key, entry });
      }
      if (not) {
        if (not.test(q)) return null;
        hits.push({ key: 'not', entry: 'the nested match does not hold' });
      }
      if (any) {
        const first = any.map((c) => c.explain(q)).find((h) => h !== null);
        if (!first) return null;
        hits.push(...first.map((h) => ({ key: `any.${h.key}`, entry: h.entry })));
      }
      if (all) {
        for (const c of all) {
          const inner = c.explain(q);
          if (!inner) return null;
          hits.push(...inner.map((h) => ({ key: `all.${h.key}`, entry: h.entry })));
        }
      }
      return hits;
    },
  };
}

/** Whether a match (at any depth) looks at target addresses that `resolve` would fill in. */
export function usesTargetAddresses(match: MatchSpec): boolean {
  return match.ip_cidr !== undefined || match.rule_set !== undefined || (match.not !== undefined && usesTargetAddresses(match.not)) || [...(match.any ?? []), ...(match.all ?? [])].some(usesTargetAddresses);
}
