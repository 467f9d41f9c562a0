import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRuleSet, loadedSet } from '../../../src/routing/rule-set-build.js';

const lookup = (text: string, format: 'domains' | 'hosts' | 'adblock' | 'cidr', host: string): string | null => {
  const set = loadedSet(buildRuleSet(text, format));
  const at = set.lookup(host);
  return at === -1 ? null : set.describe(at);
};

test('domains lists: exact names, and *. / +. / . for a name and everything under it; comments and blank lines skipped', () => {
  const text = '# list\nexact.test\n*.star.test\n+.plus.test\n.dot.test  # trailing comment\n\nBÜCHER.test\n';
  assert.equal(lookup(text, 'domains', 'exact.test'), 'exact.test');
  assert.equal(lookup(text, 'domains', 'www.exact.test'), null);
  assert.equal(lookup(text, 'domains', 'a.b.star.test'), '*.star.test');
  assert.equal(lookup(text, 'domains', 'plus.test'), '*.plus.test');
  assert.equal(lookup(text, 'domains', 'x.dot.test'), '*.dot.test');
  assert.equal(lookup(text, 'domains', 'xn--bcher-kva.test'), 'xn--bcher-kva.test', 'IDNs in punycode');
  assert.equal(lookup(text, 'domains', 'EXACT.TEST.'), 'exact.test');
});

test('hosts files: every name after the address, exact, local names left out; adblock: the ||name^ lines only', () => {
  const hosts = '127.0.0.1 localhost\n0.0.0.0 ads.test tracker.test # both\n::1 ip6-localhost\n';
  assert.equal(lookup(hosts, 'hosts', 'tracker.test'), 'tracker.test');
  assert.equal(lookup(hosts, 'hosts', 'localhost'), null);
  assert.throws(() => buildRuleSet('ads.test\n', 'hosts'), /line 1: "ads.test" is not a hosts-file line/);
  const adblock = '[Adblock Plus 2.0]\n! comment\n||ads.test^\n||cdn.test^$third-party\n@@||ok.test^\n##.banner\n';
  assert.equal(lookup(adblock, 'adblock', 'x.ads.test'), '*.ads.test');
  assert.equal(lookup(adblock, 'adblock', 'cdn.test'), null, 'rules with options are not plain domain entries');
  assert.equal(lookup(adblock, 'adblock', 'ok.test'), null);
});

test('a list that does not parse, or has no entries, is refused naming the line', () => {
  assert.throws(() => buildRuleSet('good.test\nbad name\n', 'domains'), /^Error: line 2: "bad name" is not a valid domain name$/);
  assert.throws(() => buildRuleSet('10.0.0.0/8\n300.1.1.1\n', 'cidr'), /^Error: line 2: "300.1.1.1" is not an IP address or CIDR block/);
  assert.throws(() => buildRuleSet('<html>\n', 'adblock'), /no domain entries in a "adblock" list/);
  assert.throws(() => buildRuleSet('*\n', 'domains'), /line 1: "\*" is not allowed in a rule set/);
});
