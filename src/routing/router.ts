import type { RuleSpec } from '../config/model.js';
import { normalizeHost, parseDomainPattern, patternMatches } from './domain-pattern.js';
import { DomainMatcher } from './domain-matcher.js';

/** A routing decision: the rule that won and its position. */
export interface RouteMatch {
  rule: RuleSpec;
  index: number;
}

/** One rule that matches a host, with the pattern that matched. */
export interface RuleHit {
  name: string;
  index: number;
  pattern: string;
}

/** First-match-wins routing over a fixed, ordered rule list (built once per config snapshot). */
export class Router {
  private readonly matcher = new DomainMatcher();

  constructor(readonly rules: readonly RuleSpec[]) {
    rules.forEach((rule, index) => {
      for (const pattern of rule.domains) this.matcher.add(pattern, index);
    });
  }

  /** The first rule (in file order) matching the host, or null when none does. */
  route(host: string): RouteMatch | null {
    const index = this.matcher.match(host);
    return index === -1 ? null : { rule: this.rules[index], index };
  }

  /** Every rule matching the host, in order: the first wins, the others are shadowed for this host. */
  explain(host: string): RuleHit[] {
    const name = normalizeHost(host);
    const hits: RuleHit[] = [];
    this.rules.forEach((rule, index) => {
      const pattern = rule.domains.find((p) => patternMatches(parseDomainPattern(p), name));
      if (pattern !== undefined) hits.push({ name: rule.name, index, pattern });
    });
    return hits;
  }
}
