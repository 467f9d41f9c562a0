// Routing micro-benchmark: lookup time per host for 10 to 100,000 rules, then for rule sets of 10
// to 1,000,000 entries.
// First-match lookup must not grow with the rule count.
import { Router } from '../src/routing/router.js';
import type { RuleSpec } from '../src/config/model.js';
import { buildInWorker, builtBytes, loadedSet } from '../src/routing/rule-set-build.js';

function makeRules(count: number): RuleSpec[] {
  const rules: RuleSpec[] = [];
  for (let i = 0; i < count - 1; i++) {
    const domains = i % 2 === 0 ? [`*.site${i}.example.com`] : [`host${i}.service${i % 97}.example.net`];
    rules.push({ name: `rule-${i}`, domains, backends: [{ name: 'direct', weight: 1 }] });
  }
  rules.push({ name: 'default', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] });
  return rules;
}

// The same working set of hosts for every rule count, so that only the rule count changes: some
// hosts hit exact or suffix rules present at every size, the rest fall through to "*".
function hosts(): string[] {
  const list: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const n = i % 8;
    list.push(i % 3 === 0 ? `www.cdn.site${n - (n % 2)}.example.com` : i % 3 === 1 ? `host${n | 1}.service${(n | 1) % 97}.example.net` : `nomatch${i}.example.org`);
  }
  return list;
}

const rows: { rules: number; nsPerLookup: number }[] = [];
for (const count of [10, 100, 1_000, 10_000, 100_000]) {
  const router = new Router(makeRules(count));
  const hostList = hosts();
  let sink = 0;
  for (let warm = 0; warm < 200_000; warm++) sink += router.route(hostList[warm % hostList.length])?.index ?? 0;
  const iterations = 2_000_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += router.route(hostList[i % hostList.length])?.index ?? 0;
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  rows.push({ rules: count, nsPerLookup: Math.round(ns) });
  if (sink === -1) console.log(sink);
}
console.log('\nRouting lookup (first match, mixed exact / *.suffix / * rules, 1,000 distinct hosts)');
console.log('| rules | ns per lookup |');
console.log('|---:|---:|');
for (const row of rows) console.log(`| ${row.rules.toLocaleString('en-US')} | ${row.nsPerLookup} |`);
for (const row of rows) console.log(`BENCHJSON ${JSON.stringify({ metric: 'routing_lookup_ns', rules: row.rules, median: row.nsPerLookup, unit: 'ns' })}`);

// Rule sets: lookup time must stay flat from 10 to 1,000,000 entries; a 1M set's load time (read,
// parse and build in the worker thread) and the bytes per entry of its lookup arrays.
const SET_SIZES = [10, 100_000, 1_000_000];
const domainText = (n: number): string => Array.from({ length: n }, (_, i) => (i % 10 === 0 ? `*.zone${i}.test` : `ad${i}.net${i % 997}.test`)).join('\n');
const cidrText = (n: number): string => Array.from({ length: n }, (_, i) => (i % 10 === 0 ? `10.${i >> 16}.${(i >> 8) & 255}.0/24` : `11.${i >> 16}.${(i >> 8) & 255}.${i & 255}`)).join('\n');
const setRows: { kind: string; entries: number; nsPerLookup: number; loadMs: number; bytesPerEntry: number }[] = [];
for (const [kind, text, probe] of [
  ['domains', domainText, (i: number) => (i % 3 === 0 ? `www.zone${(i % 10) * 10}.test` : i % 3 === 1 ? `ad${i % 10 || 1}.net${(i % 10 || 1) % 997}.test` : `miss${i}.example.org`)],
  ['cidr', cidrText, (i: number) => (i % 3 === 0 ? `10.0.0.${i & 255}` : i % 3 === 1 ? `11.0.0.${(i % 9) + 1}` : `192.0.2.${i & 255}`)],
] as const) {
  for (const entries of SET_SIZES) {
    const bytes = new TextEncoder().encode(text(entries));
    const started = performance.now();
    const built = await buildInWorker(bytes, kind);
    const loadMs = performance.now() - started;
    const set = loadedSet(built);
    const queries = Array.from({ length: 1000 }, (_, i) => probe(i));
    let sink = 0;
    for (let warm = 0; warm < 200_000; warm++) sink += set.lookup(queries[warm % 1000]);
    const iterations = 2_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += set.lookup(queries[i % 1000]);
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    if (sink === 42) console.log(sink);
    setRows.push({ kind, entries, nsPerLookup: Math.round(ns), loadMs: Math.round(loadMs), bytesPerEntry: Math.round((builtBytes(built) / set.size) * 10) / 10 });
  }
}
console.log('\nRule-set lookup (1,000 distinct hosts or addresses, a third hits, a third suffix/block hits, a third misses)');
console.log('| set | entries | ns per lookup | load ms (parse + build in a worker thread) | bytes per entry |');
console.log('|---|---:|---:|---:|---:|');
for (const row of setRows) console.log(`| ${row.kind} | ${row.entries.toLocaleString('en-US')} | ${row.nsPerLookup} | ${row.loadMs} | ${row.bytesPerEntry} |`);
for (const row of setRows) console.log(`BENCHJSON ${JSON.stringify({ metric: `rule_set_${row.kind}_lookup_ns`, entries: row.entries, median: row.nsPerLookup, unit: 'ns' })}`);
for (const row of setRows.filter((r) => r.entries === 1_000_000)) {
  console.log(`BENCHJSON ${JSON.stringify({ metric: `rule_set_${row.kind}_load_ms`, entries: row.entries, median: row.loadMs, unit: 'ms' })}`);
  console.log(`BENCHJSON ${JSON.stringify({ metric: `rule_set_${row.kind}_bytes_per_entry`, entries: row.entries, median: row.bytesPerEntry, unit: 'B' })}`);
}
