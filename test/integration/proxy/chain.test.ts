import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { promisify } from 'node:util';
import type { BackendSpec } from '../../../src/config/model.js';
import { startEngine, snapshot } from './engine-fixture.js';
import { connectTunnel, echoOrigin, makeCertificates, rawServer } from './raw-peers.js';

const run = promisify(execFile);

function get(proxyPort: number, url: string): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host: new URL(url).host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const protocol of ['http', 'socks5'] as const) {
  test(`client role -> server role (${protocol}) -> origin: plain HTTP and CONNECT through the chain`, { timeout: 30_000 }, async (t) => {
    const server = await startEngine(snapshot());
    t.after(() => server.stop());
    const serverBackend: BackendSpec = { name: 'server', type: 'server', protocol, host: '127.0.0.1', port: protocol === 'http' ? server.http.port : server.socks.port };
    const client = await startEngine(
      snapshot([serverBackend, { name: 'direct', type: 'direct' }], [
        { name: 'via server', domains: ['127.0.0.1'], backends: [{ name: 'server', weight: 1 }] },
        { name: 'default', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] },
      ], { role: 'client' }),
    );
    t.after(() => client.stop());
    const origin = await echoOrigin();
    t.after(() => origin.close());

    const plain = await get(client.http.port, `http://127.0.0.1:${origin.port}/hello?x=1`);
    assert.equal(plain.status, 200);
    assert.equal(JSON.parse(plain.body).url, '/hello?x=1');
    const via = String(origin.seen.at(-1)?.via);
    // An HTTP hop forwards the request and adds its Via; a SOCKS5 hop only tunnels the bytes.
    assert.equal(via.match(/simple-proxy-\w+/g)?.length, protocol === 'http' ? 2 : 1, `Via: ${via}`);

    const big = await get(client.http.port, `http://127.0.0.1:${origin.port}/bytes/3000000`);
    assert.equal(big.body.length, 3_000_000);

    const raw = await rawServer(Buffer.from('hi\n'), randomBytes(1_000_000));
    t.after(() => raw.server.close());
    const { socket, rest } = await connectTunnel(client.http.port, raw.port);
    socket.end(Buffer.from('upload'));
    let total = rest.length;
    for await (const chunk of socket) total += (chunk as Buffer).length;
    assert.equal(total, 3 + 1_000_000);
    assert.equal(await raw.received, createHash('sha256').update('upload').digest('hex'));

    await new Promise((r) => setTimeout(r, 50));
    assert.ok(client.records.every((r) => r.backend === 'server'), 'client sent everything to the server backend');
    // Pooled plain-HTTP requests share a connection to the server; the tunnel has its own.
    assert.ok((await server.engine.stats()).connectionsTotal >= 2, 'server carried the traffic');
    assert.ok(server.records.some((r) => r.port === raw.port && !r.error), 'server carried the tunnel');
  });
}

test('server role serves its HTTP proxy listener over TLS; the client verifies it with a CA file', { timeout: 30_000 }, async (t) => {
  const certs = makeCertificates();
  const server = await startEngine(snapshot(undefined, undefined, { listeners: [{ kind: 'http', host: '127.0.0.1', port: 0, tls: { certFile: certs.cert, keyFile: certs.key } }, { kind: 'socks5', host: '127.0.0.1', port: 0 }] }));
  t.after(() => server.stop());
  assert.equal(server.http.tls, true);
  const origin = await echoOrigin();
  t.after(() => origin.close());

  const trusted = await startEngine(snapshot([{ name: 'server', type: 'server', protocol: 'https', host: '127.0.0.1', port: server.http.port, tls: { caFile: certs.ca } }], undefined, { role: 'client' }));
  t.after(() => trusted.stop());
  const ok = await get(trusted.http.port, `http://127.0.0.1:${origin.port}/tls`);
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).url, '/tls');

  const raw = await rawServer(Buffer.from('tls-tunnel\n'), Buffer.alloc(0));
  t.after(() => raw.server.close());
  const { socket, rest } = await connectTunnel(trusted.http.port, raw.port);
  socket.end();
  let text = rest.toString();
  for await (const chunk of socket) text += (chunk as Buffer).toString();
  assert.equal(text, 'tls-tunnel\n');

  // A half-close crosses both TLS hops: an origin that answers only after the client finished sending still gets its answer through.
  const answersAtEnd = createServer({ allowHalfOpen: true }, (peer) => {
    let received = 0;
    peer.on('data', (chunk: Buffer) => (received += chunk.length));
    peer.on('end', () => peer.end(`got ${received}\n`));
  });
  answersAtEnd.listen(0, '127.0.0.1');
  await once(answersAtEnd, 'listening');
  t.after(() => answersAtEnd.close());
  const halfClosed = await connectTunnel(trusted.http.port, (answersAtEnd.address() as { port: number }).port);
  halfClosed.socket.end(Buffer.from('upload'));
  let afterEnd = halfClosed.rest.toString();
  for await (const chunk of halfClosed.socket) afterEnd += (chunk as Buffer).toString();
  assert.equal(afterEnd, 'got 6\n');

  // TLS inside the TLS hop: the origin's close_notify arrives after the client side is gone. The
  // server's tunnel (and its record) must still end, not wait for bytes nobody will read.
  const tlsOrigin = createHttpsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (_req, res) => res.end('secure\n'));
  tlsOrigin.listen(0, '127.0.0.1');
  await once(tlsOrigin, 'listening');
  t.after(() => tlsOrigin.close());
  const tlsPort = (tlsOrigin.address() as { port: number }).port;
  const fetched = await run('curl', ['-sS', '--max-time', '10', '--cacert', certs.ca, '-x', `http://127.0.0.1:${trusted.http.port}`, `https://127.0.0.1:${tlsPort}/`]);
  assert.equal(fetched.stdout, 'secure\n');
  const deadline = Date.now() + 5000;
  while (!server.records.some((r) => r.port === tlsPort) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(server.records.some((r) => r.port === tlsPort && r.method === 'CONNECT'), 'the server ended the tunnel to the TLS origin');

  // Without the CA the certificate is not trusted: the client refuses rather than going insecure.
  const untrusted = await startEngine(snapshot([{ name: 'server', type: 'server', protocol: 'https', host: '127.0.0.1', port: server.http.port }], undefined, { role: 'client' }));
  t.after(() => untrusted.stop());
  const refused = await get(untrusted.http.port, `http://127.0.0.1:${origin.port}/tls`);
  assert.equal(refused.status, 502);
  assert.match(refused.body, /TLS failed: .*(self.signed|unable to verify|certificate)/i);

  // A plain-text client talking to the TLS listener gets nothing it could mistake for a proxy answer.
  const plainSocket = connect({ host: '127.0.0.1', port: server.http.port });
  plainSocket.write('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
  let answer = '';
  plainSocket.on('data', (c) => (answer += c.toString('latin1')));
  plainSocket.on('error', () => undefined);
  await Promise.race([once(plainSocket, 'close'), new Promise((r) => setTimeout(r, 2000))]);
  plainSocket.destroy();
  assert.doesNotMatch(answer, /^HTTP\/1\.1 200/);
});

test('through an HTTP upstream: plain requests reuse one upstream connection, every CONNECT gets a fresh one', { timeout: 30_000 }, async (t) => {
  const upstream = await startEngine(snapshot());
  t.after(() => upstream.stop());
  const proxy = await startEngine(snapshot([{ name: 'up', type: 'http', host: '127.0.0.1', port: upstream.http.port }]));
  t.after(() => proxy.stop());
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const raw = await rawServer(Buffer.from('hi\n'), Buffer.alloc(0));
  t.after(() => raw.server.close());

  for (let i = 0; i < 5; i++) assert.equal((await get(proxy.http.port, `http://127.0.0.1:${origin.port}/r${i}`)).status, 200);
  assert.equal((await upstream.engine.stats()).connectionsTotal, 1, 'five sequential requests, one upstream connection');

  for (let i = 0; i < 3; i++) {
    const { socket } = await connectTunnel(proxy.http.port, raw.port);
    socket.end();
    for await (const chunk of socket) void chunk;
  }
  assert.equal((await upstream.engine.stats()).connectionsTotal, 4, 'each tunnel opened its own upstream connection');
});
