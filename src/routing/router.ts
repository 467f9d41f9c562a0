import { isIP } from 'node:net';
import type { RuleSpec } from '../config/model.js';
import { normalizeHost, parseDomainPattern, patternMatches } from './domain-pattern.js';
import { DomainMatcher } from './domain-matcher.js';
import { compileMatch, usesTargetAddresses, type Condition, type KeyHit } from './rule-condition.js';
import { NO_RULE_SETS, type RouteQuery, type RuleSetSource } from './route-query.js';

/** A routing decision: the rule that won and its position. */
export interface RouteMatch {
  rule: RuleSpec;
  index: number;
}

/** One rule that matches a query, with what matched. */
export interface RuleHit {
  name: string;
  index: number;
  /** What matched, in one phrase: the domain pattern of a domains-only rule, else `key entry` pairs. */
  pattern: string;
  /** Each key that held and the entry (pattern, block, port, set entry) that made it hold. */
  keys: KeyHit[];
}

/** A rule that needs more than the domain index: its position and compiled match. */
interface GeneralRule {
  index: number;
  condition: Condition;
}

const asQuery = (query: RouteQuery | string): RouteQuery => (typeof query === 'string' ? { host: query, port: 0, client: '' } : query);

/**
 * First-match-wins routing over a fixed, ordered rule list (built once per config snapshot).
 * Rules that match by domains alone sit in one DomainMatcher (a hash probe per label, whatever
 * their number); the others are tested in order only while their position is before the best
 * indexed match, so the answer is exactly the first rule in file order that matches.
 */
export class Router {
  private readonly matcher = new DomainMatcher();
  private readonly general: GeneralRule[] = [];
  /** Position of the first rule that wants resolved addresses (`resolve: true` with IP keys), or Infinity. */
  private readonly firstResolving: number;

  constructor(
    readonly rules: readonly RuleSpec[],
    private readonly sets: RuleSetSource = NO_RULE_SETS,
  ) {
    let firstResolving = Number.POSITIVE_INFINITY;
    rules.forEach((rule, index) => {
      if (rule.match === undefined) {
        for (const pattern of rule.domains) this.matcher.add(pattern, index);
        return;
      }
      this.general.push({ index, condition: compileMatch(rule.match, sets, rule.resolve === true) });
      if (rule.resolve && firstResolving === Number.POSITIVE_INFINITY && usesTargetAddresses(rule.match)) firstResolving = index;
    });
    this.firstResolving = firstResolving;
  }

  /** The first rule (in file order) matching the query (or host), or null when none does. */
  route(query: RouteQuery | string): RouteMatch | null {
    const indexed = this.matcher.match(typeof query === 'string' ? query : query.host);
    const best = indexed === -1 ? Number.POSITIVE_INFINITY : indexed;
    if (this.general.length > 0 && this.general[0].index < best) {
      const q = asQuery(query);
      for (const rule of this.general) {
        if (rule.index >= best) break;
        if (rule.condition.test(q)) return { rule: this.rules[rule.index], index: rule.index };
      }
    }
    return indexed === -1 ? null : { rule: this.rules[indexed], index: indexed };
  }

  /**
   * Whether the name in the query must be resolved before routing: a rule with `resolve: true`
   * and IP keys comes before the rule that wins without addresses.
   */
  needsAddresses(query: RouteQuery): boolean {
    if (this.firstResolving === Number.POSITIVE_INFINITY || query.addresses !== undefined || query.sniffedFrom !== undefined || isIP(query.host) !== 0 || query.host.startsWith('[')) return false;
    const winner = this.route(query);
    return winner === null || this.firstResolving < winner.index;
  }

  /** Every rule matching the query (or host), in order: the first wins, the others are shadowed for it. */
  explain(query: RouteQuery | string): RuleHit[] {
    const q = asQuery(query);
    const name = normalizeHost(q.host);
    const hits: RuleHit[] = [];
    this.rules.forEach((rule, index) => {
      if (rule.match === undefined) {
        const pattern = rule.domains.find((p) => patternMatches(parseDomainPattern(p), name));
        if (pattern !== undefined) hits.push({ name: rule.name, index, pattern, keys: [{ key: 'domains', entry: pattern }] });
        return;
      }
      const keys = compileMatch(rule.match, this.sets, rule.resolve === true).explain(q);
      if (keys !== null) hits.push({ name: rule.name, index, pattern: keys.map((k) => `${k.key} ${k.entry}`).join(', '), keys });
    });
    return hits;
  }
}
