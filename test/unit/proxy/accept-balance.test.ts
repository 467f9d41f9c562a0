import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { balanceAccepts, overShare } from '../../../src/proxy/accept-balance.js';

test('a worker passes a new connection only when serving it would put it over its share by more than 5 % (at least four)', () => {
  assert.equal(overShare(500, 0, 1), false, 'a single process keeps everything');
  // Two workers, 200 connections: the share is 100, the margin 5.
  assert.equal(overShare(99, 100, 2), false, 'an even spread passes nothing');
  assert.equal(overShare(104, 95, 2), false, '105 of 200 is within the margin');
  assert.equal(overShare(106, 93, 2), true, '107 of 200 is over it');
  // Few connections: the margin is four.
  assert.equal(overShare(7, 0, 2), false);
  assert.equal(overShare(8, 0, 2), true);
  assert.equal(overShare(35, 28, 2), false, '36 of 64 is within it');
  assert.equal(overShare(36, 27, 2), true);
  // Four workers, 400 connections: the share is 100.
  assert.equal(overShare(104, 295, 4), false);
  assert.equal(overShare(106, 293, 4), true);
  assert.equal(overShare(95, 300, 4), false, 'a worker under its share keeps what it accepts');
});

/** A loopback server whose own listener records what it serves, balanced with `mine` open here and none elsewhere. */
async function balanced(t: { after: (fn: () => void) => void }, mine: { open: number; elsewhere?: number }): Promise<{ server: Server; port: number; served: Socket[]; passed: { index: number; socket: Socket }[] }> {
  const served: Socket[] = [];
  const passed: { index: number; socket: Socket }[] = [];
  const server = createServer((socket) => served.push(socket));
  balanceAccepts([createServer(), server], { processes: 2, mine: () => mine.open, elsewhere: () => mine.elsewhere ?? 0, connected: () => true, pass: (index, socket) => passed.push({ index, socket }) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of [...served, ...passed.map((p) => p.socket)]) socket.destroy();
    server.close();
  });
  return { server, port: (server.address() as { port: number }).port, served, passed };
}

test('a connection accepted over the share goes to pass, unread and counted by no listener; one under it is served', async (t) => {
  const mine = { open: 20 };
  const { port, served, passed } = await balanced(t, mine);
  const first = connect(port, '127.0.0.1');
  t.after(() => first.destroy());
  first.write('GET / HTTP/1.1\r\n\r\n');
  const deadline = Date.now() + 10_000;
  while (passed.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(passed.length, 1);
  assert.equal(passed[0].index, 1, 'with the index of its listener');
  assert.equal(served.length, 0, 'no listener saw it');

  // Under the share again: the next connection is served, and its bytes read here; the passed one's meanwhile stay in the kernel.
  mine.open = 0;
  const second = connect(port, '127.0.0.1');
  t.after(() => second.destroy());
  second.write('x');
  while (served.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(served.length, 1);
  await once(served[0], 'data');
  assert.equal(passed[0].socket.bytesRead, 0, 'the passed connection was not read');
  assert.equal(passed.length, 1);
});

test('a connection handed to this worker (not from its own accept) is served even over the share: it moves at most once', async (t) => {
  const { server, served, passed } = await balanced(t, { open: 20 });
  // A connection to another server stands for one the daemon handed over.
  const other = createServer((socket) => socket.destroy());
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const handed = connect((other.address() as { port: number }).port, '127.0.0.1');
  t.after(() => {
    handed.destroy();
    other.close();
  });
  await once(handed, 'connect');
  server.emit('connection', handed);
  assert.deepEqual(served, [handed]);
  assert.equal(passed.length, 0);
});

test('what a worker passed counts with the others until the daemon says what they have: a burst of accepts is not all passed', async (t) => {
  // 14 here, 4 elsewhere: over the share; after three passes (7 elsewhere, as far as this worker knows) no longer.
  const { port, served, passed } = await balanced(t, { open: 14, elsewhere: 4 });
  const clients = Array.from({ length: 4 }, () => connect(port, '127.0.0.1'));
  t.after(() => clients.forEach((c) => c.destroy()));
  const deadline = Date.now() + 10_000;
  while (served.length + passed.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(passed.length, 3);
  assert.equal(served.length, 1);
});
