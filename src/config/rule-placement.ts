import { isMap, type Document, type YAMLSeq } from 'yaml';
import { ProxyError } from '../errors.js';
import { describeShadowed, isCatchAll, type ShadowedRule } from '../routing/shadowing.js';
import type { ConfigSnapshot } from './model.js';

/** Where a rule stands after an edit, for the answer of `rule add`. */
export interface RulePlacement {
  position: number;
  /** How many rules there are. */
  count: number;
  /** The catch-all rule right after it, when the rule was placed before a trailing catch-all. */
  beforeCatchAll: string | null;
}

/** Where the rule `name` stands in a snapshot (null when it has none by that name). */
export function rulePlacement(snapshot: ConfigSnapshot, name: string): RulePlacement | null {
  const position = snapshot.rules.findIndex((r) => r.name === name);
  if (position === -1) return null;
  const next = snapshot.rules[position + 1];
  const trailing = next !== undefined && position + 1 === snapshot.rules.length - 1 && isCatchAll(next);
  return { position, count: snapshot.rules.length, beforeCatchAll: trailing ? next.name : null };
}

/** The refusal of an edit that leaves rules unreachable, naming the rule that shadows the first. */
export function shadowedRefusal(shadowed: ShadowedRule[], order: { name: string }[]): ProxyError {
  const [first] = shadowed;
  const at = order.findIndex((r) => r.name === first.by[0]);
  const more = shadowed.length > 1 ? ` (and ${shadowed.slice(1).map((s) => `"${s.rule}"`).join(', ')})` : '';
  return new ProxyError('RULE_SHADOWED', `refused: ${describeShadowed(first)}${more}; put it before "${first.by[0]}" (position ${at}) or pass --allow-shadowed to keep it anyway`);
}

/** The rules of a document as written (name, domains, and the match when it has keys beyond domains), for the shadowing check. */
export function rulesOf(doc: Document): { name: string; domains: string[]; match?: unknown }[] {
  const list = (doc.toJS() as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) return [];
  return list.map((r: { name?: unknown; match?: { domains?: unknown } } | null) => ({
    name: String(r?.name ?? ''),
    domains: Array.isArray(r?.match?.domains) ? r.match.domains.map(String) : [],
    ...(r?.match && Object.keys(r.match).some((key) => key !== 'domains') ? { match: r.match } : {}),
  }));
}

/** The end of the list, or the place of its last rule when that one is a catch-all. */
export function defaultPosition(seq: YAMLSeq): number {
  const last = seq.items.at(-1);
  const match = isMap(last) ? (last.toJSON() as { match?: { domains?: unknown } }).match : undefined;
  const domains = match?.domains;
  const more = match !== undefined && Object.keys(match).some((key) => key !== 'domains') ? { match } : {};
  return Array.isArray(domains) && isCatchAll({ domains: domains.map(String), ...more }) ? seq.items.length - 1 : seq.items.length;
}
