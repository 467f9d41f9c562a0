import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { hashPassword } from '../../../src/auth/native-provider.js';
import { authSnapshot } from '../auth/auth-fixture.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { associate, hubOf, pysocksExchange, udpEcho, until } from './udp-fixture.js';


const aliceHash = await hashPassword('alice-pw');
const NATIVE = { mode: 'native', native: { users: [{ username: 'alice', password_hash: aliceHash, groups: [] }] } };

test('PySocks exchanges datagrams through UDP ASSOCIATE with IPv4, IPv6 and domain targets', { timeout: 60_000 }, async (t) => {
  const [v4, v6] = await Promise.all([udpEcho('127.0.0.1'), udpEcho('::1')]);
  t.after(() => (v4.close(), v6.close()));
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const viaV4 = await pysocksExchange(proxy.socks.port, '127.0.0.1', v4.port, 'to-v4');
  assert.deepEqual(viaV4, { data: 'to-v4', from: ['127.0.0.1', v4.port] });
  const viaV6 = await pysocksExchange(proxy.socks.port, '::1', v6.port, 'to-v6');
  assert.deepEqual(viaV6, { data: 'to-v6', from: ['::1', v6.port] });
  // A name goes to the proxy as a name (ATYP 3) and is resolved there.
  const byName = await pysocksExchange(proxy.socks.port, 'localhost', v4.port, 'to-name');
  assert.equal(byName.data, 'to-name');
  assert.equal(v4.seen.at(-1)?.data, 'to-name');
  await until(() => proxy.records.length === 3, 'three association records');
  const records = proxy.records.map((r) => ({ protocol: r.protocol, method: r.method, backend: r.backend, datagramsIn: r.udp?.datagramsIn, datagramsOut: r.udp?.datagramsOut }));
  assert.deepEqual(records, new Array(3).fill({ protocol: 'udp', method: 'UDP', backend: 'direct', datagramsIn: 1, datagramsOut: 1 }));
});

test('with RFC 1929 auth, PySocks and the Node socks client associate with the right password only', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const proxy = await startEngine(authSnapshot(NATIVE));
  t.after(() => proxy.stop());
  const alice = { user: 'alice', password: 'alice-pw' };
  assert.equal((await pysocksExchange(proxy.socks.port, '127.0.0.1', echo.port, 'py-auth', alice)).data, 'py-auth');
  await assert.rejects(pysocksExchange(proxy.socks.port, '127.0.0.1', echo.port, 'py-bad', { user: 'alice', password: 'wrong' }));
  const association = await associate(proxy.socks.port, alice);
  t.after(() => association.close());
  association.send('127.0.0.1', echo.port, 'node-auth');
  assert.deepEqual(await association.next(), { host: '127.0.0.1', port: echo.port, data: 'node-auth' });
  await assert.rejects(associate(proxy.socks.port, { user: 'alice', password: 'nope' }));
  await assert.rejects(associate(proxy.socks.port));
  association.close();
  await until(() => proxy.records.some((r) => r.protocol === 'udp' && r.user === 'alice' && r.udp?.datagramsOut === 1 && r.bytesIn === 'node-auth'.length), 'the record of alice\'s association');
});

test('the Node socks client reaches IPv4, IPv6 and named targets over one association; each destination keeps its own NAT entry', { timeout: 60_000 }, async (t) => {
  const [v4, v6] = await Promise.all([udpEcho('127.0.0.1'), udpEcho('::1')]);
  t.after(() => (v4.close(), v6.close()));
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  assert.equal(association.relay.host, '127.0.0.1', 'the relay is bound to the address the client reached');
  association.send('127.0.0.1', v4.port, 'a');
  assert.deepEqual(await association.next(), { host: '127.0.0.1', port: v4.port, data: 'a' });
  association.send('::1', v6.port, 'b');
  assert.deepEqual(await association.next(), { host: '::1', port: v6.port, data: 'b' });
  association.send('127.0.0.1', v4.port, 'c');
  assert.deepEqual(await association.next(), { host: '127.0.0.1', port: v4.port, data: 'c' });
  // A name is resolved by the backend (IPv4 first: prefer_ipv6 is off); the answer names the address that replied.
  association.send('localhost', v4.port, 'd');
  assert.deepEqual(await association.next(), { host: '127.0.0.1', port: v4.port, data: 'd' });
  // The same destination is the same NAT entry: the echo saw one source port for both datagrams.
  assert.equal(new Set(v4.seen.slice(0, 2).map((s) => s.from)).size, 1);
  association.control.destroy();
  await until(() => proxy.records.length === 1, 'the association record');
  const [record] = proxy.records;
  assert.deepEqual(record.udp, { datagramsIn: 4, datagramsOut: 4, dropped: 0, destinations: [`127.0.0.1:${v4.port}`, `[::1]:${v6.port}`, `localhost:${v4.port}`], destinationCount: 3 });
  assert.equal(record.bytesIn, 4);
  assert.equal(record.bytesOut, 4);
});

test('bad datagrams and strangers are dropped and counted; the association goes on', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  association.send('127.0.0.1', echo.port, 'first');
  await association.next();
  const port = Buffer.alloc(2);
  port.writeUInt16BE(echo.port);
  association.sendRaw(Buffer.from([0, 0])); // truncated
  association.sendRaw(Buffer.from([0, 0, 0, 0x01, 127, 0])); // address cut short
  association.sendRaw(Buffer.concat([Buffer.from([0, 0, 0, 0x07, 127, 0, 0, 1]), port, Buffer.from('x')])); // unknown ATYP
  association.sendRaw(Buffer.concat([Buffer.from([0, 0, 1, 0x01, 127, 0, 0, 1]), port, Buffer.from('frag')])); // FRAG 1
  association.sendRaw(Buffer.from([0, 0, 0, 0x03])); // a name with no length
  // Another socket on the client's own address, the right header: still not the client's port.
  const stranger = createSocket('udp4');
  t.after(() => stranger.close());
  stranger.send(Buffer.concat([Buffer.from([0, 0, 0, 0x01, 127, 0, 0, 1]), port, Buffer.from('stranger')]), association.relay.port, association.relay.host);
  const hub = hubOf(proxy.engine);
  await until(() => [...hub.dropped.values()].reduce((a, b) => a + b, 0) === 6, 'six drops counted');
  assert.deepEqual(Object.fromEntries(hub.dropped), { truncated: 3, 'address-type': 1, fragmented: 1, stranger: 1 });
  association.send('127.0.0.1', echo.port, 'still-here');
  assert.equal((await association.next()).data, 'still-here');
  assert.deepEqual(echo.seen.map((s) => s.data), ['first', 'still-here']);
});

test('the relay is bound to the address the client reached (IPv6 listener, wildcard listener), or advertises socks5.udp.advertise_address', { timeout: 60_000 }, async (t) => {
  const [v4, v6] = await Promise.all([udpEcho('127.0.0.1'), udpEcho('::1')]);
  t.after(() => (v4.close(), v6.close()));
  const base = snapshot();
  const on = (host: string, raw: Record<string, unknown> = {}) => snapshot(undefined, undefined, { listeners: [base.listeners[0], { kind: 'socks5', host, port: 0 }], raw });

  const six = await startEngine(on('::1'));
  t.after(() => six.stop());
  const overV6 = await associate(six.socks.port, undefined, '::1');
  t.after(() => overV6.close());
  assert.equal(new URL(`http://[${overV6.relay.host}]/`).hostname, '[::1]');
  overV6.send('::1', v6.port, 'v6 relay');
  assert.equal((await overV6.next()).data, 'v6 relay');

  // Listening on every address: the relay takes the one this client reached, never the wildcard.
  const wildcard = await startEngine(on('0.0.0.0'));
  t.after(() => wildcard.stop());
  const via2 = await associate(wildcard.socks.port, undefined, '127.0.0.2');
  t.after(() => via2.close());
  assert.equal(via2.relay.host, '127.0.0.2');
  via2.send('127.0.0.1', v4.port, 'from 127.0.0.2');
  assert.equal((await via2.next()).data, 'from 127.0.0.2');

  const advertised = await startEngine(on('127.0.0.1', { socks5: { udp: { advertise_address: '198.51.100.7' } } }));
  t.after(() => advertised.stop());
  const behindNat = await associate(advertised.socks.port);
  t.after(() => behindNat.close());
  assert.equal(behindNat.relay.host, '198.51.100.7');
});

test('seeded random datagrams are dropped or refused, never fatal: the association still relays', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  // Only "localhost" is routed: whatever a random header names gets no route, so nothing leaves this host.
  const proxy = await startEngine(snapshot(undefined, [{ name: 'only', domains: ['localhost'], backends: [{ name: 'direct', weight: 1 }] }]));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  let seed = 21;
  const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 300; i++) {
    const junk = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
    // Most keep a valid start, so the fuzz gets past the first check.
    if (junk.length > 4 && random() < 0.7) junk.set([0, 0, 0, [1, 3, 4][i % 3]]);
    association.sendRaw(junk);
  }
  // 300 datagrams at once may overflow a socket buffer on a busy host: a lost probe is sent again.
  assert.equal((await association.ask('localhost', echo.port, 'still-here', (r) => r.data === 'still-here', 20)).data, 'still-here');
  assert.ok(echo.seen.every((s) => s.data === 'still-here'), 'nothing but the probe reached the echo');
  assert.equal(hubOf(proxy.engine).active, 1);
});
