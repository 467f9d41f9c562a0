import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../../src/auth/native-provider.js';
import { parseConfigText } from '../../../src/config/load.js';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { curl, exchange, METRICS_ON, origin, scrape, socksConnect } from '../policy/policy-fixture.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';

/** The rules of a server config text on the engine fixture (free loopback ports, loopback trusted). */
function rulesFrom(yaml: string, patch: Partial<ConfigSnapshot> = {}): ConfigSnapshot {
  const parsed = parseConfigText(`backends:\n  - { name: direct, type: direct }\n  - { name: other, type: direct }\n${yaml}`, null, 'server');
  return snapshot(parsed.backends, parsed.rules, patch);
}

async function engineFor(t: TestContext, config: ConfigSnapshot) {
  const proxy = await startEngine(config);
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  return { proxy, hits };
}

/** The rule of the last finished record, once it has one (bounded wait). */
async function lastRule(records: { rule?: string }[], count: number): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  while (records.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return records.at(-1)?.rule;
}

test('ip_cidr and ports route IP-literal targets on every front (HTTP, CONNECT, SOCKS5), first match in file order', { timeout: 60_000 }, async (t) => {
  const site = await origin(10);
  t.after(() => site.server.close());
  const other = await origin(10);
  t.after(() => other.server.close());
  const { proxy } = await engineFor(
    t,
    rulesFrom(`rules:
  - name: loopback-site
    match: { ip_cidr: ["127.0.0.0/8"], ports: [${site.port}] }
    backend: other
  - name: v6-loopback
    match: { ip_cidr: ["::1/128"] }
    backend: other
  - name: default
    match: { domains: ["*"] }
    backend: direct
`),
  );
  const records = proxy.records;
  const via = `http://127.0.0.1:${proxy.http.port}`;
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://127.0.0.1:${site.port}/`])).stdout, '200');
  assert.equal(await lastRule(records, 1), 'loopback-site', 'plain HTTP to 127.0.0.1 on the listed port');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://127.0.0.1:${other.port}/`])).stdout, '200');
  assert.equal(await lastRule(records, 2), 'default', 'another port falls through to the catch-all');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-p', '-x', via, `http://127.0.0.1:${site.port}/`])).stdout, '200');
  assert.equal(await lastRule(records, 3), 'loopback-site', 'CONNECT to an IP literal');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '--socks5', `127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`])).stdout, '200');
  assert.equal(await lastRule(records, 4), 'loopback-site', 'SOCKS5 with an IPv4 address');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://localhost:${site.port}/`])).stdout, '200');
  assert.equal(await lastRule(records, 5), 'default', 'a name is not matched by ip_cidr without resolve: true');
  const v6 = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-p', '-x', via, `http://[::1]:${site.port}/`]);
  await lastRule(records, 6);
  assert.equal(records.at(-1)?.rule, 'v6-loopback', `an IPv6 literal matches an IPv6 block (curl: ${v6.stdout} ${v6.stderr})`);
});

test('action: reject answers 403 naming the rule, SOCKS5 0x02, and is counted and logged with the rule name', { timeout: 60_000 }, async (t) => {
  const site = await origin(10);
  t.after(() => site.server.close());
  const { proxy, hits } = await engineFor(
    t,
    rulesFrom(
      `rules:
  - name: no-ads
    match: { domains: ["ads.example"], ports: [80, "8000-65535"] }
    action: reject
  - name: socks-to-loopback
    match: { protocols: [socks5], ip_cidr: ["127.0.0.1/32"], not: { ports: [1] } }
    action: reject
  - name: default
    match: { domains: ["*"] }
    backend: direct
`,
      { metrics: METRICS_ON },
    ),
  );
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const plain = await curl(['-w', '\n%{http_code}', '-x', via, 'http://ads.example/x']);
  assert.match(plain.stdout, /\n403$/);
  assert.match(plain.stdout, /rejected by rule "no-ads"/, 'the body names the rule');
  const tunnel = await curl(['-o', '/dev/null', '-w', '%{http_connect}', '-p', '-x', via, `http://ads.example:${site.port}/`]);
  assert.equal(tunnel.stdout, '403', 'CONNECT is refused with 403');
  const { reply } = await exchange(proxy.socks.port, '127.0.0.1', socksConnect('127.0.0.1', site.port));
  assert.equal(reply[3], 0x02, `SOCKS5 answers 0x02 (connection not allowed by ruleset), got ${reply.toString('hex')}`);
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://127.0.0.1:${site.port}/`])).stdout, '200', 'HTTP to the same target is not rejected (protocols: socks5)');
  const deadline = Date.now() + 10_000;
  while (hits.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(hits.map((h) => [h.scope, h.reason, h.protocol]), [
    ['reject', 'rejected by rule "no-ads"', 'http'],
    ['reject', 'rejected by rule "no-ads"', 'connect'],
    ['reject', 'rejected by rule "socks-to-loopback"', 'socks5'],
  ]);
  assert.equal((await scrape(proxy.engine)).get('proxy_policy_refusals_total{by="reject"}'), 3);
  assert.ok(proxy.records.some((r) => r.rule === 'no-ads' && r.status === 403 && r.error === 'rejected'), 'the record names the rule');
});

test('source_cidr matches IPv4 clients also as IPv4-mapped addresses on a dual-stack listener; resolve: true matches names by address', { timeout: 60_000 }, async (t) => {
  const site = await origin(10);
  t.after(() => site.server.close());
  const yaml = `rules:
  - name: from-loopback
    match: { source_cidr: ["127.0.0.0/8"], domains: ["127.0.0.1"] }
    backend: other
  - name: resolved
    match: { ip_cidr: ["127.0.0.0/8"] }
    resolve: true
    backend: other
  - name: default
    match: { domains: ["*"] }
    backend: direct
`;
  const base = rulesFrom(yaml);
  const { proxy } = await engineFor(t, { ...base, listeners: base.listeners.map((l) => ({ ...l, host: '::' })) });
  const via = `http://127.0.0.1:${proxy.http.port}`;
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://127.0.0.1:${site.port}/`])).stdout, '200');
  await lastRule(proxy.records, 1);
  assert.match(proxy.records[0].clientAddress, /^::ffff:127\.0\.0\.1$/, 'the listener on :: sees an IPv4-mapped client');
  assert.equal(proxy.records[0].rule, 'from-loopback');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://localhost:${site.port}/`])).stdout, '200');
  assert.equal(await lastRule(proxy.records, 2), 'resolved', 'localhost resolves into 127.0.0.0/8');
});

test('users and groups match the authenticated identity on HTTP, CONNECT and SOCKS5', { timeout: 60_000 }, async (t) => {
  const site = await origin(10);
  t.after(() => site.server.close());
  const [aliceHash, bobHash] = await Promise.all([hashPassword('alice-pw'), hashPassword('bob-pw')]);
  const auth = { mode: 'native', native: { users: [{ username: 'alice', password_hash: aliceHash, groups: ['staff'] }, { username: 'bob', password_hash: bobHash, groups: [] }] } };
  const { proxy } = await engineFor(
    t,
    rulesFrom(
      `rules:
  - { name: staff-socks, match: { groups: [staff], protocols: [socks5] }, backend: other }
  - { name: bob-only, match: { users: [bob] }, backend: other }
  - { name: default, match: { domains: ["*"] }, backend: direct }
`,
      { raw: { server: { auth } } },
    ),
  );
  const url = `http://127.0.0.1:${site.port}/`;
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const through = async (args: string[], count: number): Promise<string | undefined> => {
    assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', ...args, url])).stdout, '200');
    return lastRule(proxy.records, count);
  };
  assert.equal(await through(['-x', via, '-U', 'alice:alice-pw'], 1), 'default', 'alice over HTTP: staff-socks wants socks5');
  assert.equal(await through(['--socks5', `127.0.0.1:${proxy.socks.port}`, '--proxy-user', 'alice:alice-pw'], 2), 'staff-socks');
  assert.equal(await through(['-p', '-x', via, '-U', 'bob:bob-pw'], 3), 'bob-only', 'CONNECT as bob');
  assert.equal(await through(['--socks5', `127.0.0.1:${proxy.socks.port}`, '--proxy-user', 'bob:bob-pw'], 4), 'bob-only');
});

test('the client dialect takes the new keys and action: reject', () => {
  const client = parseConfigText(
    `server: { address: "127.0.0.1:8080" }
rules:
  - { name: lan, match: { ip_cidr: ["192.168.0.0/16"] }, action: direct }
  - { name: block, match: { ports: [25] }, action: reject }
  - { name: rest, match: { domains: ["*"] }, action: server }
`,
    null,
    'client',
  );
  assert.deepEqual(client.rules.map((r) => [r.name, r.reject ?? false, r.backends.map((b) => b.name)]), [
    ['lan', false, ['direct']],
    ['block', true, []],
    ['rest', false, ['server']],
  ]);
});
