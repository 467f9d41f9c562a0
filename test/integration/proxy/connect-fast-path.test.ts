import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { startEngine, snapshot, type RunningEngine } from './engine-fixture.js';
import { echoBehindProxy, noClientsLeft, open, readUntil, serverSides } from './raw-client.js';

test('a CONNECT head sent in one piece is served without node:http: no parser and no socket timer stay on the tunnel', async (t) => {
  const { origin, proxy } = await echoBehindProxy(t);
  const client = await open(proxy.http.port);
  t.after(() => client.destroy());
  // The head and the first tunnel bytes in one write, as a client that does not wait for the 200 sends them.
  client.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fast/1\r\n\r\nhello`);
  const answer = await readUntil(client, (r) => r.endsWith('hello'), 'answer and echo');
  assert.match(answer, /^HTTP\/1\.1 200 Connection Established\r\n\r\nhello$/);
  const [side] = serverSides(proxy);
  assert.ok(side, 'the tunnel is open');
  assert.equal((side as Socket & { parser?: unknown }).parser, undefined, 'node:http never attached a parser');
  assert.equal(side.timeout, undefined, 'no socket timeout was ever set');
  client.write('again');
  await readUntil(client, (r) => r === 'again', 'echo through the tunnel');
  client.destroy();
  const record = await waitForRecord(proxy);
  assert.equal(record.userAgent, 'fast/1');
  assert.equal(record.status, 200);
});

test('whatever the fast path does not take goes to node:http as before: a head split over writes, a GET then a CONNECT on one connection, a malformed head', async (t) => {
  const { origin, proxy } = await echoBehindProxy(t);
  const split = await open(proxy.http.port);
  t.after(() => split.destroy());
  split.write('CONNECT 127.0.0.1:');
  // The proxy reads the first piece alone before the rest is sent.
  for (const deadline = Date.now() + 10_000; !serverSides(proxy).some((s) => s.bytesRead > 0); await new Promise((r) => setTimeout(r, 10))) {
    assert.ok(Date.now() < deadline, 'the first piece was read');
  }
  split.write(`${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await readUntil(split, (r) => r.startsWith('HTTP/1.1 200 Connection Established\r\n\r\n'), 'split head answered');
  split.write('ping');
  await readUntil(split, (r) => r === 'ping', 'echo through the split-head tunnel');

  const http = createServer((socket) => socket.end('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(() => http.close());
  const httpPort = (http.address() as { port: number }).port;
  const keep = await open(proxy.http.port);
  t.after(() => keep.destroy());
  keep.write(`GET http://127.0.0.1:${httpPort}/ HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\n\r\n`);
  await readUntil(keep, (r) => /^HTTP\/1\.1 204 /.test(r) && r.includes('\r\n\r\n'), 'GET answered');
  keep.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await readUntil(keep, (r) => r.startsWith('HTTP/1.1 200 Connection Established\r\n\r\n'), 'CONNECT after a GET answered');
  keep.write('pong');
  await readUntil(keep, (r) => r === 'pong', 'echo after the GET');

  const bad = await open(proxy.http.port);
  t.after(() => bad.destroy());
  bad.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nBad Header: x\r\n\r\n`);
  assert.match(await readUntil(bad, (r) => r.includes('\r\n\r\n'), 'malformed head refused'), /^HTTP\/1\.1 400 /);
});

test('a connection that sends nothing is answered 408 after the handshake time; one that closes silently is let go', { timeout: 60_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const quiet = await open(proxy.http.port);
  t.after(() => quiet.destroy());
  const started = Date.now();
  const gone = await open(proxy.http.port);
  gone.end();
  await once(gone, 'close');
  const answer = await readUntil(quiet, (r) => r.includes('\r\n\r\n'), 'the 408');
  const waited = Date.now() - started;
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(waited >= 9_000 && waited < 30_000, `answered after ${waited} ms`);
  await once(quiet, 'close');
  await noClientsLeft(proxy);
});

async function waitForRecord(proxy: RunningEngine): Promise<RunningEngine['records'][number]> {
  for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const record = proxy.records.find((r) => r.protocol === 'connect');
    if (record) return record;
    assert.ok(Date.now() < deadline, 'the tunnel record');
  }
}
