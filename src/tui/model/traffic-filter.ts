import { isFailure, statusClass as recordStatusClass, type StatusClass } from '../../debug/traffic-format.js';
import type { TrafficRow } from './traffic-row.js';

/** The keys the filter box knows, as `key:value` words. */
export const FILTER_KEYS = ['host', 'method', 'status', 'backend', 'client', 'user', 'rule', 'proto', 'dur', 'bytes'] as const;

/** One filter key. */
export type FilterKey = (typeof FILTER_KEYS)[number];

/** A parsed filter: a test for rows, and the words it could not use (shown in red). */
export interface TrafficFilter {
  /** The text it was parsed from (trimmed). */
  source: string;
  /** No words at all: every row passes. */
  empty: boolean;
  test(row: TrafficRow): boolean;
  /** `key:value` words whose key is not one of FILTER_KEYS. */
  unknown: string[];
  /** Words with a known key but a value it cannot read (bad regular expression, `dur:>fast`). */
  invalid: string[];
}

type Test = (row: TrafficRow) => boolean;

/** The status class of a row: `2xx`…`5xx`, `err` for failures, `open` while unanswered. */
export function statusClass(row: TrafficRow): StatusClass | 'open' {
  return recordStatusClass(row) ?? 'open';
}

const UNITS: Record<'dur' | 'bytes', Record<string, number>> = {
  dur: { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 },
  bytes: { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9 },
};

/** `>1s`, `<=200ms`, `=404`, `10K`: a comparison against a number (with a unit for durations and sizes). */
function comparison(value: string, units: Record<string, number> | null): ((n: number | undefined) => boolean) | null {
  const match = /^(>=|<=|>|<|=)?(\d+(?:\.\d+)?)([a-z]*)$/i.exec(value);
  if (!match) return null;
  const scale = units ? units[match[3].toLowerCase()] : match[3] === '' ? 1 : undefined;
  if (scale === undefined) return null;
  const limit = Number(match[2]) * scale;
  const op = match[1] ?? (units ? '>=' : '=');
  return (n) => n !== undefined && (op === '>' ? n > limit : op === '<' ? n < limit : op === '>=' ? n >= limit : op === '<=' ? n <= limit : n === limit);
}

/** A `/regular expression/` value (case-insensitive), or null when the value is not one. */
function regex(value: string): RegExp | null | 'bad' {
  if (value.length < 2 || !value.startsWith('/') || !value.endsWith('/')) return null;
  try {
    return new RegExp(value.slice(1, -1), 'i');
  } catch {
    return 'bad';
  }
}

function fieldOf(key: FilterKey, row: TrafficRow): string {
  switch (key) {
    case 'host':
      return `${row.host}:${row.port}${row.path ?? ''}`;
    case 'proto':
      return row.protocol;
    default:
      return String(row[key as 'method' | 'backend' | 'client' | 'user' | 'rule'] ?? '');
  }
}

/** Substring match for hosts and clients; whole-word match for the rest (`backend:vpn` is not `vpn2`). */
const SUBSTRING: ReadonlySet<FilterKey> = new Set(['host', 'client']);

function statusTest(value: string): Test | null {
  const v = value.toLowerCase();
  if (v === 'err') return (row) => isFailure(row);
  if (v === 'open') return (row) => row.open;
  const cls = /^([1-5])xx$/.exec(v);
  if (cls) return (row) => statusClass(row) === v || (row.status !== undefined && String(row.status).startsWith(cls[1]) && !isFailure(row));
  const compare = comparison(v, null);
  return compare ? (row) => compare(row.status) : null;
}

/** The test of one alternative of a `key:value` word, or null when the value cannot be read. */
function keyTest(key: FilterKey, value: string): Test | null {
  const re = regex(value);
  if (re === 'bad') return null;
  if (key === 'dur' || key === 'bytes') {
    const compare = comparison(value, UNITS[key]);
    if (!compare) return null;
    return key === 'dur' ? (row) => compare(row.durationMs) : (row) => compare(row.bytesIn + row.bytesOut);
  }
  if (key === 'status' && re === null) return statusTest(value);
  if (re) return (row) => re.test(fieldOf(key, row));
  const wanted = value.toLowerCase();
  return SUBSTRING.has(key) ? (row) => fieldOf(key, row).toLowerCase().includes(wanted) : (row) => fieldOf(key, row).toLowerCase() === wanted;
}

/** Everything a free word is searched in. */
function haystack(row: TrafficRow): string {
  return `${row.method} ${row.host}:${row.port}${row.path ?? ''} ${row.client} ${row.user ?? ''} ${row.rule ?? ''} ${row.backend ?? ''} ${row.error ?? ''} ${row.status ?? ''}`.toLowerCase();
}

function freeTest(value: string): Test | null {
  const re = regex(value);
  if (re === 'bad') return null;
  if (re) return (row) => re.test(haystack(row));
  const wanted = value.toLowerCase();
  return (row) => haystack(row).includes(wanted);
}

/**
 * Parses the filter box, in the manner of mitmproxy and k9s: words are ANDed; `key:value`
 * narrows one field (`host:`, `method:`, `status:5xx|>=400|err`, `backend:`, `client:`, `user:`,
 * `rule:`, `proto:`, `dur:>1s`, `bytes:>1M`); other words are searched everywhere; `!` negates
 * a word, `|` gives alternatives, `/…/` is a regular expression.
 */
export function parseFilter(input: string): TrafficFilter {
  const source = input.trim();
  const tests: Test[] = [];
  const unknown: string[] = [];
  const invalid: string[] = [];
  for (const word of source.split(/\s+/).filter(Boolean)) {
    const negate = word.startsWith('!') && word.length > 1;
    const body = negate ? word.slice(1) : word;
    const keyed = /^([a-z]+):(.+)$/i.exec(body);
    const key = keyed?.[1].toLowerCase();
    if (keyed && !FILTER_KEYS.includes(key as FilterKey)) {
      unknown.push(word);
      continue;
    }
    const alternatives = (keyed ? keyed[2] : body).split('|').filter(Boolean);
    const parts = alternatives.map((value) => (keyed ? keyTest(key as FilterKey, value) : freeTest(value)));
    if (parts.length === 0 || parts.some((p) => p === null)) {
      invalid.push(word);
      continue;
    }
    const any = parts as Test[];
    const one: Test = any.length === 1 ? any[0] : (row) => any.some((p) => p(row));
    tests.push(negate ? (row) => !one(row) : one);
  }
  return { source, empty: tests.length === 0, test: (row) => tests.every((t) => t(row)), unknown, invalid };
}
