import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { associate, hubOf, udpEcho, until } from './udp-fixture.js';

test('UDP datagrams route by ip_cidr, ports and protocols like TCP, and a reject rule drops them', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const blocked = await udpEcho('127.0.0.1');
  t.after(() => blocked.close());
  const parsed = parseConfigText(
    `backends:
  - { name: direct, type: direct }
  - { name: other, type: direct }
rules:
  - name: no-udp-here
    match: { protocols: [udp], ports: [${blocked.port}] }
    action: reject
  - name: udp-loopback
    match: { ip_cidr: ["127.0.0.0/8"], protocols: [udp] }
    backend: other
  - name: default
    match: { domains: ["*"] }
    backend: direct
`,
    null,
    'server',
  );
  const proxy = await startEngine(snapshot(parsed.backends, parsed.rules));
  t.after(() => proxy.stop());

  const allowed = await associate(proxy.socks.port);
  t.after(() => allowed.close());
  allowed.send('127.0.0.1', echo.port, 'by address');
  assert.equal((await allowed.next()).data, 'by address');
  allowed.control.destroy();
  await until(() => proxy.records.length === 1, 'the first association ends');
  assert.equal(proxy.records[0].rule, 'udp-loopback', 'an IP-literal datagram takes the CIDR rule for udp');
  assert.equal(proxy.records[0].backend, 'other');

  const refused = await associate(proxy.socks.port);
  t.after(() => refused.close());
  refused.send('127.0.0.1', blocked.port, 'never');
  await until(() => hubOf(proxy.engine).dropped.get('refused') === 1, 'the rejected datagram dropped');
  refused.control.destroy();
  await until(() => proxy.records.length === 2, 'the second association ends');
  assert.deepEqual(blocked.seen, [], 'nothing reached the blocked port');
  assert.equal(proxy.records[1].rule, 'no-udp-here');
});
