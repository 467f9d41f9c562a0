// Routing micro-benchmark: lookup time per host for rule sets of 10 to 100,000 rules.
// First-match lookup must not grow with the rule count.
import { Router } from '../src/routing/router.js';
import type { RuleSpec } from '../src/config/model.js';

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
