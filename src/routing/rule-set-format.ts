import { isIP } from 'node:net';
import { normalizeHost, parseDomainPattern } from './domain-pattern.js';
import { EXACT, SUFFIX } from './domain-set.js';

/** How a rule set's lines read (`rule_sets[].format`). */
export type RuleSetFormat = 'domains' | 'hosts' | 'adblock' | 'cidr';

/** The entries of a rule set text: names with their kinds, or CIDR blocks. */
export type ParsedRuleSet = { kind: 'domains'; names: string[]; kinds: number[] } | { kind: 'cidr'; blocks: string[]; lines: number[] };

/** Names a hosts file maps that are no block-list entries. */
const HOSTS_LOCAL = new Set(['localhost', 'localhost.localdomain', 'local', 'broadcasthost', 'ip6-localhost', 'ip6-loopback', 'ip6-localnet', 'ip6-mcastprefix', 'ip6-allnodes', 'ip6-allrouters', 'ip6-allhosts', '0.0.0.0']);

/**
 * Parses a rule set text. `domains`: one pattern a line (`example.com` that name, `*.example.com`,
 * `+.example.com` or `.example.com` it and every name under it); `hosts`: hosts-file lines
 * (`0.0.0.0 ads.example.com`), each name exact; `adblock`: the `||example.com^` lines of an
 * Adblock-style list (that name and every name under it; other filter lines are not domain
 * entries and are passed over); `cidr`: one IP address or CIDR block a line. `#` starts a comment
 * (and `!` in adblock lists). A malformed line or a list without entries throws, naming the line:
 * a refreshed copy that does not parse never replaces a good one.
 */
export function parseRuleSet(text: string, format: RuleSetFormat): ParsedRuleSet {
  const names: string[] = [];
  const kinds: number[] = [];
  const blocks: string[] = [];
  const lines: number[] = [];
  let lineNo = 0;
  const bad = (why: string): Error => new Error(`line ${lineNo}: ${why}`);
  const addName = (raw: string, kind: number): void => {
    let pattern;
    try {
      pattern = parseDomainPattern(raw);
    } catch (error) {
      throw bad((error as Error).message);
    }
    if (pattern.kind === 'any') throw bad('"*" is not allowed in a rule set');
    names.push(pattern.name);
    kinds.push(pattern.kind === 'suffix' ? SUFFIX : kind);
  };
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (format === 'adblock') {
      line = line.trim();
      if (line.startsWith('||') && line.endsWith('^') && !line.includes('$') && !line.includes('/')) addName(line.slice(2, -1), SUFFIX);
      continue;
    }
    const hash = line.indexOf('#');
    if (hash !== -1) line = line.slice(0, hash);
    line = line.trim();
    if (line === '') continue;
    if (format === 'cidr') {
      blocks.push(line);
      lines.push(lineNo);
    } else if (format === 'hosts') {
      const fields = line.split(/\s+/);
      if (fields.length < 2 || isIP(fields[0]) === 0) throw bad(`"${line}" is not a hosts-file line (expected "0.0.0.0 name ...")`);
      for (const name of fields.slice(1)) if (!HOSTS_LOCAL.has(normalizeHost(name))) addName(name, EXACT);
    } else if (line.startsWith('+.') || (line.startsWith('.') && line.length > 1)) addName(`*.${line.slice(line.indexOf('.') + 1)}`, SUFFIX);
    else addName(line, EXACT);
  }
  const count = format === 'cidr' ? blocks.length : names.length;
  if (count === 0) throw new Error(`no ${format === 'cidr' ? 'CIDR blocks' : 'domain'} entries in a "${format}" list`);
  return format === 'cidr' ? { kind: 'cidr', blocks, lines } : { kind: 'domains', names, kinds };
}
