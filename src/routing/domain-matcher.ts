import { isIpLiteral, normalizeHost, parseDomainPattern } from './domain-pattern.js';

/**
 * First-match lookup over domain patterns in constant time with respect to the number of
 * patterns: exact names and `*.suffix` names sit in hash maps keyed by name, each keeping the
 * lowest rule index that uses it; a lookup tries the host and each of its parent suffixes
 * (one map probe per label) and takes the lowest index seen, which is exactly "first rule in
 * file order that matches".
 */
export class DomainMatcher {
  private readonly exact = new Map<string, number>();
  private readonly suffix = new Map<string, number>();
  private any = Number.POSITIVE_INFINITY;

  /** Adds a pattern for the rule at `index`; an earlier index always wins. */
  add(pattern: string, index: number): void {
    const parsed = parseDomainPattern(pattern);
    if (parsed.kind === 'any') {
      this.any = Math.min(this.any, index);
      return;
    }
    const map = parsed.kind === 'exact' ? this.exact : this.suffix;
    const previous = map.get(parsed.name);
    if (previous === undefined || index < previous) map.set(parsed.name, index);
  }

  /** The lowest rule index whose patterns match the host, or -1. */
  match(host: string): number {
    const name = normalizeHost(host);
    let best = this.any;
    const exact = this.exact.get(name);
    if (exact !== undefined && exact < best) best = exact;
    if (this.suffix.size > 0 && !isIpLiteral(name)) {
      let at = 0;
      while (at !== -1) {
        const candidate = this.suffix.get(at === 0 ? name : name.slice(at));
        if (candidate !== undefined && candidate < best) best = candidate;
        const dot = name.indexOf('.', at);
        at = dot === -1 ? -1 : dot + 1;
      }
    }
    return best === Number.POSITIVE_INFINITY ? -1 : best;
  }
}
