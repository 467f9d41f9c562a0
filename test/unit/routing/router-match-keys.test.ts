import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { CidrSet } from '../../../src/routing/cidr-set.js';
import { Router } from '../../../src/routing/router.js';
import type { RouteQuery } from '../../../src/routing/route-query.js';

function router(rules: string): Router {
  return new Router(parseConfigText(`rules:\n${rules}`, null, 'server').rules);
}

const q = (patch: Partial<RouteQuery>): RouteQuery => ({ host: 'example.com', port: 443, client: '10.0.0.5', protocol: 'connect', ...patch });

test('users, groups and protocols match the identity and the front; several keys must all hold', () => {
  const r = router(`  - { name: alice-socks, match: { users: [alice], protocols: [socks5] }, backend: direct }
  - { name: staff, match: { groups: [staff, ops] }, backend: direct }
  - { name: web, match: { protocols: [http] }, backend: direct }
  - { name: default, match: { domains: ["*"] }, backend: direct }`);
  assert.equal(r.route(q({ user: 'alice', protocol: 'socks5' }))?.rule.name, 'alice-socks');
  assert.equal(r.route(q({ user: 'alice', protocol: 'connect' }))?.rule.name, 'default', 'both keys must hold');
  assert.equal(r.route(q({ user: 'bob', groups: ['ops'] }))?.rule.name, 'staff');
  assert.equal(r.route(q({ protocol: 'upgrade' }))?.rule.name, 'web', 'a WebSocket upgrade matches as http');
});

test('not, any and all combine nested matches; first match in file order holds across indexed and other rules', () => {
  const r = router(`  - { name: early-domain, match: { domains: ["*.early.test"] }, backend: direct }
  - name: combo
    match:
      any: [{ ports: [22] }, { source_cidr: ["192.168.0.0/16"] }]
      all: [{ not: { domains: ["*.internal"] } }]
    backend: direct
  - { name: late-domain, match: { domains: ["*.late.test", "x.early.test"] }, backend: direct }`);
  assert.equal(r.route(q({ host: 'a.early.test', port: 22 }))?.rule.name, 'early-domain', 'an earlier indexed rule beats a later general one');
  assert.equal(r.route(q({ host: 'a.late.test', port: 22 }))?.rule.name, 'combo', 'a general rule beats a later indexed one');
  assert.equal(r.route(q({ host: 'a.late.test', client: '192.168.1.1' }))?.rule.name, 'combo');
  assert.equal(r.route(q({ host: 'db.internal', port: 22 })), null, 'not excludes');
  assert.equal(r.route(q({ host: 'a.late.test', port: 80 }))?.rule.name, 'late-domain');
});

test('explain names the rule, each key that held and the entry', () => {
  const r = router(`  - { name: blocks, match: { ip_cidr: ["10.0.0.0/8", "2001:db8::/32"], ports: ["1000-2000"] }, action: reject }
  - { name: default, match: { domains: ["*"] }, backend: direct }`);
  const [winner, ...others] = r.explain(q({ host: '2001:db8::7', port: 1500 }));
  assert.deepEqual(winner.keys, [{ key: 'ports', entry: '1000-2000' }, { key: 'ip_cidr', entry: '2001:db8::/32' }]);
  assert.equal(winner.name, 'blocks');
  assert.deepEqual(others.map((o) => o.name), ['default']);
});

test('resolve: true asks for the name to be looked up only when such a rule could win', () => {
  const r = router(`  - { name: first, match: { domains: ["first.test"] }, backend: direct }
  - { name: by-address, match: { ip_cidr: ["127.0.0.0/8"] }, resolve: true, backend: direct }
  - { name: default, match: { domains: ["*"] }, backend: direct }`);
  assert.equal(r.needsAddresses(q({ host: 'first.test' })), false, 'an earlier rule wins anyway');
  assert.equal(r.needsAddresses(q({ host: 'other.test' })), true);
  assert.equal(r.needsAddresses(q({ host: '127.0.0.1' })), false, 'an IP literal needs no lookup');
  assert.equal(r.route(q({ host: 'other.test', addresses: ['127.0.0.2'] }))?.rule.name, 'by-address');
});

test('CIDR sets: nested and IPv4-mapped lookups find the innermost block', () => {
  const set = CidrSet.of(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '::/0', 'fe80::/10']);
  assert.equal(set.describe(set.lookup('10.1.2.3')), '10.1.2.3/32');
  assert.equal(set.describe(set.lookup('10.1.9.9')), '10.1.0.0/16');
  assert.equal(set.describe(set.lookup('::ffff:10.200.0.1')), '10.0.0.0/8');
  assert.equal(set.describe(set.lookup('fe80::1')), 'fe80::/10');
  assert.equal(set.describe(set.lookup('2001:db8::1')), '::/0');
  assert.equal(set.lookup('not-an-ip'), -1);
});

test('config validate locates bad CIDRs, port ranges and unknown rule sets by line and column', () => {
  const text = `rule_sets:
  - { name: ads, path: ./ads.txt, format: domains }
rules:
  - name: bad
    match:
      ip_cidr: ["10.0.0.0/33"]
      ports: ["2000-1000"]
      any: [{ rule_set: adz }]
    backend: direct
`;
  const problems = (() => {
    try {
      parseConfigText(text, '/tmp/server-config.yaml', 'server');
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  })();
  assert.deepEqual(problems, [
    'server-config.yaml:6:17: rules[0].match.ip_cidr[0]: "10.0.0.0/33" is not an IP address or CIDR block (like "10.0.0.0/8" or "2001:db8::/32")',
    'server-config.yaml:7:15: rules[0].match.ports[0]: "2000-1000" is not a port range (expected "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535)',
  ]);
  const sets = (() => {
    try {
      parseConfigText(text.replace('10.0.0.0/33', '10.0.0.0/8').replace('2000-1000', '1000-2000'), '/tmp/server-config.yaml', 'server');
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  })();
  assert.deepEqual(sets, ['server-config.yaml:8:25: rules[0].match.any[0].rule_set: unknown rule set "adz" (did you mean "ads"?) (defined in rule_sets: ads)']);
});
