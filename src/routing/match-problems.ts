import type { KeyPath } from '../config/problems.js';
import { didYouMean } from '../config/problems.js';
import type { MatchSpec } from '../config/match-schema.js';
import { parseDomainPattern } from './domain-pattern.js';

/** What the schema cannot check in a `match:` (at any depth): domain patterns, and rule sets that are not defined. */
export function matchProblems(match: MatchSpec, at: KeyPath, sets: ReadonlyMap<string, unknown>): [KeyPath, string][] {
  const found: [KeyPath, string][] = [];
  match.domains?.forEach((pattern, j) => {
    try {
      parseDomainPattern(pattern);
    } catch (error) {
      found.push([[...at, 'domains', j], (error as Error).message]);
    }
  });
  if (match.rule_set !== undefined && !sets.has(match.rule_set)) {
    const known = [...sets.keys()];
    found.push([[...at, 'rule_set'], `unknown rule set "${match.rule_set}"${didYouMean(match.rule_set, known)}${known.length ? ` (defined in rule_sets: ${known.join(', ')})` : ' (no rule_sets: are defined)'}`]);
  }
  if (match.not) found.push(...matchProblems(match.not, [...at, 'not'], sets));
  match.any?.forEach((inner, j) => found.push(...matchProblems(inner, [...at, 'any', j], sets)));
  match.all?.forEach((inner, j) => found.push(...matchProblems(inner, [...at, 'all', j], sets)));
  return found;
}
