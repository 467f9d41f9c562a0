import { parseDomainPattern, patternCovers, type DomainPattern } from './domain-pattern.js';

/** A rule that can never match, and the earlier rules that take every domain it lists. */
export interface ShadowedRule {
  rule: string;
  by: string[];
}

/**
 * The rules (in order) that earlier rules shadow completely; patterns that do not parse are left
 * out. Only rules that match by domains alone shadow (a rule with more keys lets some of its
 * domains through); a rule with keys beyond domains is shadowed when earlier rules take every
 * domain it lists, or, when it lists none, by an earlier catch-all.
 */
export function shadowedRules(rules: readonly { name: string; domains: readonly string[]; match?: unknown }[]): ShadowedRule[] {
  const found: ShadowedRule[] = [];
  const earlier: { rule: string; pattern: DomainPattern }[] = [];
  for (const rule of rules) {
    const patterns = rule.domains.flatMap((domain) => {
      try {
        return [parseDomainPattern(domain)];
      } catch {
        return [];
      }
    });
    const byDomainsOnly = rule.match === undefined;
    const asked = patterns.length > 0 || byDomainsOnly ? patterns : [{ kind: 'any' } as const];
    const shadowers = asked.map((p) => earlier.find((e) => patternCovers(e.pattern, p)));
    if (asked.length > 0 && shadowers.every((s) => s !== undefined)) found.push({ rule: rule.name, by: [...new Set(shadowers.map((s) => s!.rule))] });
    if (byDomainsOnly) for (const pattern of patterns) earlier.push({ rule: rule.name, pattern });
  }
  return found;
}

/** The sentence for a shadowed rule, as warnings and refusals say it. */
export function describeShadowed(shadowed: ShadowedRule): string {
  return `rule "${shadowed.rule}" can never match: earlier rule ${shadowed.by.map((b) => `"${b}"`).join(', ')} already matches every domain it lists`;
}

/** Whether a rule catches every host (lists `*` and matches by domains alone). */
export function isCatchAll(rule: { domains: readonly string[]; match?: unknown }): boolean {
  return rule.match === undefined && rule.domains.includes('*');
}
