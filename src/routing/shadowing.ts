import { parseDomainPattern, patternCovers, type DomainPattern } from './domain-pattern.js';

/** A rule that can never match, and the earlier rules that take every domain it lists. */
export interface ShadowedRule {
  rule: string;
  by: string[];
}

/** The rules (in order) that earlier rules shadow completely; patterns that do not parse are left out. */
export function shadowedRules(rules: readonly { name: string; domains: readonly string[] }[]): ShadowedRule[] {
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
    const shadowers = patterns.map((p) => earlier.find((e) => patternCovers(e.pattern, p)));
    if (patterns.length > 0 && shadowers.every((s) => s !== undefined)) found.push({ rule: rule.name, by: [...new Set(shadowers.map((s) => s!.rule))] });
    for (const pattern of patterns) earlier.push({ rule: rule.name, pattern });
  }
  return found;
}

/** The sentence for a shadowed rule, as warnings and refusals say it. */
export function describeShadowed(shadowed: ShadowedRule): string {
  return `rule "${shadowed.rule}" can never match: earlier rule ${shadowed.by.map((b) => `"${b}"`).join(', ')} already matches every domain it lists`;
}

/** Whether a rule catches every host (lists `*`). */
export function isCatchAll(rule: { domains: readonly string[] }): boolean {
  return rule.domains.includes('*');
}
