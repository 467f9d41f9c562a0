import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/run.js';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import { connectTunnel, rawServer } from './raw-peers.js';
import { startEngine, snapshot } from './engine-fixture.js';

test('CONNECT tunnel: server-first bytes, a large payload to a slow reader and an upload arrive intact', { timeout: 60_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const greeting = Buffer.from('220 hello from the server first\r\n');
  const payload = randomBytes(24 * 1024 * 1024);
  const origin = await rawServer(greeting, payload);
  t.after(() => origin.server.close());

  const { socket, rest } = await connectTunnel(proxy.http.port, origin.port);
  const upload = randomBytes(3 * 1024 * 1024);
  socket.end(upload);
  const hash = createHash('sha256');
  hash.update(rest);
  let total = rest.length;
  // Read slowly at first so the proxy has to hold back (backpressure), then drain.
  socket.pause();
  await new Promise((r) => setTimeout(r, 300));
  for await (const chunk of socket) {
    hash.update(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total < 4 * 1024 * 1024) await new Promise((r) => setImmediate(r));
  }
  const expected = createHash('sha256').update(greeting).update(payload).digest('hex');
  assert.equal(total, greeting.length + payload.length);
  assert.equal(hash.digest('hex'), expected);
  assert.equal(await origin.received, createHash('sha256').update(upload).digest('hex'));
  const record = await waitFor('a record for the tunnel', () => proxy.records.find((r) => r.protocol === 'connect'));
  assert.ok(record, 'a record for the tunnel');
  assert.equal(record.bytesOut, total, 'tunnel bytes sent to the client');
  assert.equal(record.status, 200);
});

test('SOCKS5 tunnel: many concurrent streams stay separate and intact', { timeout: 60_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const streams = 8;
  const origins = await Promise.all(Array.from({ length: streams }, (_, i) => rawServer(Buffer.from(`hi ${i}\n`), randomBytes(2 * 1024 * 1024 + i))));
  t.after(() => origins.forEach((o) => o.server.close()));
  await Promise.all(
    origins.map(async (origin, i) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.socks.port });
      await once(socket, 'connect');
      const request = Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, origin.port >> 8, origin.port & 0xff]);
      socket.end(request);
      let data = Buffer.alloc(0);
      for await (const chunk of socket) data = Buffer.concat([data, chunk as Buffer]);
      assert.equal(data.subarray(0, 3).toString('hex'), '050005', `stream ${i} granted`);
      const body = data.subarray(2 + 10);
      assert.equal(body.subarray(0, 5).toString(), `hi ${i}\n`);
      assert.equal(body.length, `hi ${i}\n`.length + 2 * 1024 * 1024 + i);
    }),
  );
});
