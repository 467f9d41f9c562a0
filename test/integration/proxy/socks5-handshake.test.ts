import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { hashPassword } from '../../../src/auth/native-provider.js';
import { authSnapshot, socksWithPassword } from '../auth/auth-fixture.js';
import { socksConnect } from '../policy/policy-fixture.js';
import { waitFor } from '../../helpers/run.js';
import { echoBehindProxy, noClientsLeft, open, readUntil, serverSides } from './raw-client.js';

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');
/** A "succeeded" reply with an IPv4 bound address (the proxy's side of the dial: 127.0.0.1 and any port). */
const SUCCEEDED = '05000001' + '7f000001' + '[0-9a-f]{4}';

/** Asserts the proxy's side of its one client connection has no socket timeout: none set, no 'timeout' listener. */
function assertNoSocketTimer(side: Socket | undefined, when: string): void {
  assert.ok(side, `${when}: the connection is open`);
  assert.equal(side.timeout, undefined, `${when}: no socket timeout was ever set`);
  assert.equal(side.listenerCount('timeout'), 0, `${when}: no 'timeout' listener`);
}

test('SOCKS5: no socket timer is armed during the handshake nor on the tunnel', async (t) => {
  const { origin, proxy } = await echoBehindProxy(t);
  const client = await open(proxy.socks.port);
  t.after(() => client.destroy());
  client.write(Buffer.from([5, 1, 0]));
  assert.equal(hex(await readUntil(client, (r) => r.length >= 2, 'method choice')), '0500');
  assertNoSocketTimer(serverSides(proxy)[0], 'after the greeting');
  client.write(socksConnect('127.0.0.1', origin.port).subarray(3));
  assert.match(hex(await readUntil(client, (r) => r.length >= 10, 'the reply')), new RegExp(`^${SUCCEEDED}$`));
  assertNoSocketTimer(serverSides(proxy)[0], 'on the tunnel');
  client.write('ping');
  assert.equal(await readUntil(client, (r) => r === 'ping', 'echo through the tunnel'), 'ping');
});

test('SOCKS5: a greeting, credentials, request and first bytes in one write are served in one go, with and without auth', async (t) => {
  const noAuth = await echoBehindProxy(t);
  const plain = await open(noAuth.proxy.socks.port);
  t.after(() => plain.destroy());
  plain.write(Buffer.concat([socksConnect('127.0.0.1', noAuth.origin.port), Buffer.from('hello')]));
  const answer = await readUntil(plain, (r) => r.endsWith('hello'), 'answers and echo');
  assert.match(hex(answer), new RegExp(`^0500${SUCCEEDED}${hex('hello')}$`));

  const users = [{ username: 'alice', password_hash: await hashPassword('alice-pw'), groups: [] }];
  const withAuth = await echoBehindProxy(t, authSnapshot({ mode: 'native', native: { users } }));
  const client = await open(withAuth.proxy.socks.port);
  t.after(() => client.destroy());
  client.write(Buffer.concat([socksWithPassword('alice', 'alice-pw', '127.0.0.1', withAuth.origin.port), Buffer.from('hello')]));
  const authed = await readUntil(client, (r) => r.endsWith('hello'), 'answers and echo with auth');
  assert.match(hex(authed), new RegExp(`^0502` + `0100${SUCCEEDED}${hex('hello')}$`));
  assertNoSocketTimer(serverSides(withAuth.proxy)[0], 'after a password check');
  client.destroy();
  await waitFor('the tunnel record, with its user', () => withAuth.proxy.records.find((r) => r.protocol === 'socks5' && r.user === 'alice'));
});

test('SOCKS5: a client silent from the start, after its greeting or in the middle of its request is closed after the handshake time', { timeout: 60_000 }, async (t) => {
  const { proxy } = await echoBehindProxy(t);
  const silent = await open(proxy.socks.port);
  const greeted = await open(proxy.socks.port);
  const halfway = await open(proxy.socks.port);
  t.after(() => [silent, greeted, halfway].forEach((s) => s.destroy()));
  const started = Date.now();
  const closed = [silent, greeted, halfway].map((socket) => once(socket, 'close').then(() => Date.now() - started));
  greeted.write(Buffer.from([5, 1, 0]));
  halfway.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127]));
  assert.equal(hex(await readUntil(greeted, (r) => r.length >= 2, 'method choice')), '0500');
  assert.equal(hex(await readUntil(halfway, (r) => r.length >= 2, 'method choice, request pending')), '0500');
  const waited = await Promise.all(closed);
  // Closed by the proxy: the clients never close on their own.
  for (const ms of waited) assert.ok(ms >= 9_500 && ms < 30_000, `closed after ${waited.join(', ')} ms`);
  await noClientsLeft(proxy);
});
