import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../../src/auth/native-provider.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { authSnapshot } from '../auth/auth-fixture.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { associate, hubOf, udpEcho, until } from './udp-fixture.js';


test('an untrusted client\'s datagrams to loopback or to a port outside safe_ports are dropped and counted; the association goes on', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  // Nobody trusted: the open-relay guard applies to this loopback client.
  const proxy = await startEngine(snapshot(undefined, undefined, { raw: { access_control: { trusted_clients: [], allow_open_relay: true } } }));
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  association.send('127.0.0.1', echo.port, 'private');
  association.send('127.0.0.1', echo.port, 'private again');
  association.send('localhost', echo.port, 'by name');
  association.send('192.0.2.1', 25, 'smtp');
  await until(() => hubOf(proxy.engine).dropped.get('refused') === 4, 'four refused datagrams');
  assert.deepEqual(echo.seen, []);
  assert.deepEqual(hits.map((h) => [h.scope, h.protocol, h.target]), [
    ['private-target', 'udp', `127.0.0.1:${echo.port}`],
    ['private-target', 'udp', `localhost:${echo.port}`],
    ['port', 'udp', '192.0.2.1:25'],
  ]);
  association.control.destroy();
  await until(() => proxy.records.length === 1, 'the record');
  assert.equal(proxy.records[0].error, 'private-target');
  assert.equal(proxy.records[0].udp?.dropped, 4);
});

test('an HTTP upstream cannot carry UDP: refused with the reason, or skipped to the next rule with udp: skip', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const backends = [
    { name: 'web', type: 'http' as const, host: '127.0.0.1', port: 9 },
    { name: 'direct', type: 'direct' as const },
  ];
  const rules = (skip: boolean) => [
    { name: 'via-web', domains: ['*'], backends: [{ name: 'web', weight: 1 }], ...(skip ? { udpSkip: true as const } : {}) },
    { name: 'fallback', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] },
  ];
  const refusing = await startEngine(snapshot(backends, rules(false)));
  t.after(() => refusing.stop());
  const refused = await associate(refusing.socks.port);
  t.after(() => refused.close());
  refused.send('127.0.0.1', echo.port, 'nope');
  await until(() => hubOf(refusing.engine).dropped.get('refused') === 1, 'the refused datagram');
  refused.control.destroy();
  await until(() => refusing.records.length === 1, 'the record');
  assert.equal(refusing.records[0].error, 'udp-unsupported');
  assert.equal(refusing.records[0].rule, 'via-web');

  const skipping = await startEngine(snapshot(backends, rules(true)));
  t.after(() => skipping.stop());
  const skipped = await associate(skipping.socks.port);
  t.after(() => skipped.close());
  skipped.send('127.0.0.1', echo.port, 'around');
  assert.equal((await skipped.next()).data, 'around');
  skipped.control.destroy();
  await until(() => skipping.records.length === 1, 'the record');
  assert.equal(skipping.records[0].rule, 'fallback');
  assert.equal(skipping.records[0].backend, 'direct');
});

test('group ACLs and rate limits (one per new destination) apply to an association', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const hash = await hashPassword('pw');
  const auth = {
    mode: 'native',
    native: { users: [{ username: 'carol', password_hash: hash, groups: ['limited'] }], acl: [{ group: 'limited', backends: ['other'] }] },
  };
  const proxy = await startEngine(
    authSnapshot(auth, {
      rate_limiting: { enabled: true, per_user: { requests_per_second: 0.01, burst: 2 } },
    }),
  );
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const carol = await associate(proxy.socks.port, { user: 'carol', password: 'pw' });
  t.after(() => carol.close());
  // "localhost" goes to backend "other", which carol's group may use; 127.0.0.1 goes to "direct", which it may not.
  carol.send('localhost', echo.port, 'allowed');
  assert.equal((await carol.next()).data, 'allowed');
  carol.send('127.0.0.1', echo.port, 'forbidden');
  await until(() => hubOf(proxy.engine).dropped.get('refused') === 1, 'the ACL refusal');
  // Each new destination is one request for the rate limits: the third is over the burst of 2.
  const other = await udpEcho('127.0.0.1');
  t.after(() => other.close());
  carol.send('localhost', other.port, 'over the limit');
  await until(() => hubOf(proxy.engine).dropped.get('refused') === 2, 'the rate-limit refusal');
  assert.deepEqual(other.seen, []);
  assert.deepEqual(hits.map((h) => [h.scope, h.protocol]), [['acl', 'udp'], ['user', 'udp']]);
  // Datagrams of an admitted flow are not rate-limited one by one.
  for (let i = 0; i < 5; i++) carol.send('localhost', echo.port, `more ${i}`);
  for (let i = 0; i < 5; i++) await carol.next();
});

test('an association counts as a client connection under max_connections_per_ip', { timeout: 60_000 }, async (t) => {
  const base = snapshot();
  const proxy = await startEngine({ ...base, network: { ...base.network, limits: { ...base.network.limits, maxConnectionsPerIp: 1 } } });
  t.after(() => proxy.stop());
  const first = await associate(proxy.socks.port);
  t.after(() => first.close());
  await assert.rejects(associate(proxy.socks.port));
  first.control.destroy();
  await until(() => hubOf(proxy.engine).active === 0, 'the first association to end');
  const again = await associate(proxy.socks.port);
  again.close();
});

test('bandwidth limits drop the datagrams over the rate, counted; those within it pass', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  // 0.2 Mbit/s per connection: a bucket of 25,000 bytes/s holding 16 KiB.
  const proxy = await startEngine(snapshot(undefined, undefined, { raw: { rate_limiting: { enabled: true, bandwidth: { enabled: true, max_mbps_per_connection: 0.2 } } } }));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  const payload = Buffer.alloc(1000, 0x62);
  for (let i = 0; i < 60; i++) association.send('127.0.0.1', echo.port, payload);
  const hub = hubOf(proxy.engine);
  // Every datagram either reached the echo or was dropped (the echoes coming back draw from the other direction's bucket).
  await until(() => echo.seen.length + (hub.dropped.get('bandwidth') ?? 0) >= 60, 'all 60 datagrams passed or dropped');
  assert.ok(echo.seen.length >= 10 && echo.seen.length <= 20, `about 16 KiB passed at once: ${echo.seen.length} datagrams`);
});

test('each open destination holds a slot of max_connections_per_backend, given back when its NAT entry goes', { timeout: 60_000 }, async (t) => {
  const [first, second] = await Promise.all([udpEcho('127.0.0.1'), udpEcho('127.0.0.1')]);
  t.after(() => (first.close(), second.close()));
  const base = snapshot(undefined, undefined, { raw: { socks5: { udp: { flow_idle_timeout: '300ms' } } } });
  const proxy = await startEngine({ ...base, network: { ...base.network, limits: { ...base.network.limits, maxConnectionsPerBackend: 2 } } });
  t.after(() => proxy.stop());
  // The association's control connection is not a backend connection; its first destination is one, the second makes two.
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  association.send('127.0.0.1', first.port, 'one');
  assert.equal((await association.next()).data, 'one');
  const other = await associate(proxy.socks.port);
  t.after(() => other.close());
  other.send('127.0.0.1', first.port, 'two');
  assert.equal((await other.next()).data, 'two');
  association.send('127.0.0.1', second.port, 'three');
  const hub = hubOf(proxy.engine);
  await until(() => hub.dropped.get('refused') === 1, 'the third destination refused by the backend limit');
  assert.deepEqual(second.seen, []);
  // Once the idle entries are gone their slots are free again.
  await until(() => hub.flowCount === 0, 'the NAT entries to idle out');
  association.send('127.0.0.1', second.port, 'four');
  assert.equal((await association.next()).data, 'four');
});

test('a backend that is unavailable refuses UDP with its own reason, not as a backend without UDP', { timeout: 60_000 }, async (t) => {
  const proxy = await startEngine(snapshot([{ name: 'vpn', type: 'wireguard', configFile: '/nonexistent/wg.conf', unavailable: 'the tunnel file is missing' }]));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  association.send('192.0.2.1', 5000, 'through a broken tunnel');
  await until(() => hubOf(proxy.engine).dropped.get('refused') === 1, 'the refused datagram');
  association.control.destroy();
  await until(() => proxy.records.length === 1, 'the record');
  assert.equal(proxy.records[0].error, 'unavailable');
});
