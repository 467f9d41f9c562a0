import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerUnavailable, startPeer } from '../../helpers/peers.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { associate, udpEcho, until } from './udp-fixture.js';

test('UDP through an upstream danted (socks5 backend): the upstream\'s own UDP ASSOCIATE carries each destination, names resolved there', { timeout: 60_000, skip: peerUnavailable('dante') ?? false }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const dante = await startPeer('dante', undefined, { udp: true });
  t.after(() => dante.stop());
  const proxy = await startEngine(snapshot([{ name: 'dante', type: 'socks5', host: dante.host, port: dante.port }]));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  association.send('127.0.0.1', echo.port, 'via dante');
  assert.deepEqual(await association.next(), { host: '127.0.0.1', port: echo.port, data: 'via dante' });
  association.send('localhost', echo.port, 'named');
  assert.equal((await association.next()).data, 'named');
  for (let i = 0; i < 20; i++) association.send('127.0.0.1', echo.port, `burst ${i}`);
  const burst = await Promise.all(Array.from({ length: 20 }, () => association.next()));
  assert.equal(burst.length, 20);
  association.control.destroy();
  await until(() => proxy.records.length === 1, 'the record');
  const [record] = proxy.records;
  assert.equal(record.backend, 'dante');
  assert.equal(record.udp?.datagramsIn, 22);
  assert.equal(record.udp?.datagramsOut, 22);
});
