import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, Agent, request, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WebSocketServer } from 'ws';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { startEngine, snapshot } from './engine-fixture.js';
import { makeCertificates } from './raw-peers.js';

const run = promisify(execFile);

/** A full-featured origin: echo, streaming download with and without length, upload hashing. */
async function origin(host = '127.0.0.1'): Promise<{ port: number; base: string; connections: () => number; close(): void }> {
  let connections = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/upload') {
      const hash = createHash('sha256');
      let size = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        size += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ size, sha256: hash.digest('hex'), method: req.method })));
      return;
    }
    if (url.pathname === '/chunked') {
      const total = Number(url.searchParams.get('n'));
      let sent = 0;
      const chunk = Buffer.alloc(65_536, 1);
      const pump = (): void => {
        while (sent < total) {
          const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    res.setHeader('content-type', 'application/json');
    res.setHeader('connection', 'keep-alive, x-hop');
    res.setHeader('x-hop', 'must not reach the client');
    if (req.method === 'HEAD') return void res.end();
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  server.on('connection', () => connections++);
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { port, base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, connections: () => connections, close: () => server.close() };
}

function send(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | (() => AsyncIterable<Buffer>); agent?: Agent }): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    const body = options.body;
    if (typeof body === 'function') {
      (async () => {
        for await (const chunk of body()) if (!req.write(chunk)) await once(req, 'drain');
        req.end();
      })().catch(reject);
    } else {
      req.end(body);
    }
  });
}

test('plain HTTP: every method, streaming bodies both ways, keep-alive and pooled origin connections', { timeout: 60_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const o = await origin();
  t.after(() => o.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());

  for (const method of ['GET', 'DELETE', 'OPTIONS', 'PATCH']) {
    const { res, body } = await send(proxy.http.port, { method, path: `${o.base}/m?q=${method}`, agent });
    assert.equal(res.statusCode, 200);
    assert.deepEqual([JSON.parse(body.toString()).method, JSON.parse(body.toString()).url], [method, `/m?q=${method}`]);
  }

  const upload = randomBytes(8 * 1024 * 1024);
  const put = await send(proxy.http.port, { method: 'PUT', path: `${o.base}/upload`, headers: { 'content-length': String(upload.length) }, body: upload, agent });
  assert.deepEqual(JSON.parse(put.body.toString()), { size: upload.length, sha256: createHash('sha256').update(upload).digest('hex'), method: 'PUT' });

  const parts = Array.from({ length: 64 }, () => randomBytes(100_000));
  const post = await send(proxy.http.port, {
    method: 'POST',
    path: `${o.base}/upload`,
    headers: { 'transfer-encoding': 'chunked' },
    body: async function* () {
      yield* parts;
    },
    agent,
  });
  const expected = createHash('sha256');
  parts.forEach((p) => expected.update(p));
  assert.equal(JSON.parse(post.body.toString()).sha256, expected.digest('hex'));

  const download = await send(proxy.http.port, { path: `${o.base}/chunked?n=${30 * 1024 * 1024 + 7}`, agent });
  assert.equal(download.body.length, 30 * 1024 * 1024 + 7);
  assert.equal(download.res.headers['content-length'], undefined, 'chunked stays chunked');

  for (let i = 0; i < 20; i++) await send(proxy.http.port, { path: `${o.base}/again/${i}`, agent });
  assert.ok(o.connections() <= 2, `origin connections reused (${o.connections()} for 30 requests)`);
  assert.equal((await proxy.engine.stats()).connectionsTotal, 1, 'one client connection carried every request');
  // Last: Node's own client does not reuse a connection after a HEAD answer without a length.
  const head = await send(proxy.http.port, { method: 'HEAD', path: `${o.base}/h`, agent });
  assert.equal(head.res.statusCode, 200);
  assert.equal(head.body.length, 0);
});

test('hop-by-hop headers are dropped both ways (RFC 9110 7.6.1) and Via is added', async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const o = await origin();
  t.after(() => o.close());
  const { res, body } = await send(proxy.http.port, {
    path: `${o.base}/hop`,
    headers: { connection: 'x-private', 'x-private': 'secret', 'keep-alive': 'timeout=5', 'proxy-authorization': 'Basic Zm9vOmJhcg==', te: 'trailers', 'x-end-to-end': 'kept', host: 'wrong.example' },
  });
  const seen = JSON.parse(body.toString()).headers as Record<string, string>;
  for (const name of ['x-private', 'keep-alive', 'proxy-authorization', 'te']) assert.equal(seen[name], undefined, `${name} not forwarded`);
  assert.equal(seen['x-end-to-end'], 'kept');
  assert.equal(seen.host, `127.0.0.1:${o.port}`, 'Host follows the request target');
  assert.match(seen.via, /^1\.1 simple-proxy-/);
  assert.equal(res.headers['x-hop'], undefined, 'a header the origin listed in Connection is dropped');
  assert.match(String(res.headers.via), /simple-proxy-/);
});

test('real clients: curl (-x, --proxytunnel, --socks5, --socks5-hostname), undici ProxyAgent to HTTPS, socks-proxy-agent', { timeout: 60_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const o = await origin();
  t.after(() => o.close());
  const curl = async (...args: string[]): Promise<string> => (await run('curl', ['-sS', '--max-time', '10', ...args])).stdout;
  const proxyUrl = `http://127.0.0.1:${proxy.http.port}`;
  assert.equal(JSON.parse(await curl('-x', proxyUrl, `${o.base}/curl-plain`)).url, '/curl-plain');
  assert.equal(JSON.parse(await curl('-x', proxyUrl, '--proxytunnel', `${o.base}/curl-tunnel`)).url, '/curl-tunnel');
  assert.equal(JSON.parse(await curl('--socks5', `127.0.0.1:${proxy.socks.port}`, `${o.base}/curl-socks`)).url, '/curl-socks');
  assert.equal(JSON.parse(await curl('--socks5-hostname', `127.0.0.1:${proxy.socks.port}`, `http://localhost:${o.port}/curl-socks-h`)).url, '/curl-socks-h');
  assert.equal(JSON.parse(await curl('--socks5', `user:pass@127.0.0.1:${proxy.socks.port}`, `${o.base}/curl-socks-auth`)).url, '/curl-socks-auth');

  const certs = makeCertificates();
  const secure = createHttpsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (req, res) => res.end(`secure ${req.url}`));
  secure.listen(0, '127.0.0.1');
  await once(secure, 'listening');
  t.after(() => secure.close());
  const securePort = (secure.address() as { port: number }).port;
  const dispatcher = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: readFileSync(certs.ca) } });
  t.after(() => dispatcher.close());
  const answer = await undiciFetch(`https://localhost:${securePort}/via-undici`, { dispatcher });
  assert.equal(await answer.text(), 'secure /via-undici');
  assert.equal(await curl('--cacert', certs.ca, '-x', proxyUrl, `https://localhost:${securePort}/via-curl`), 'secure /via-curl');

  const socksAgent = new SocksProxyAgent(`socks5h://127.0.0.1:${proxy.socks.port}`);
  const viaSocks = await new Promise<string>((resolve, reject) => {
    request({ host: 'localhost', port: o.port, path: '/via-socks-agent', agent: socksAgent }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
  assert.equal(JSON.parse(viaSocks).url, '/via-socks-agent');
});

test('IPv6: origin on [::1] reached by absolute URI, CONNECT and SOCKS5 ATYP 4', { timeout: 30_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const o = await origin('::1');
  t.after(() => o.close());
  const plain = await send(proxy.http.port, { path: `http://[::1]:${o.port}/v6` });
  assert.equal(JSON.parse(plain.body.toString()).url, '/v6');
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-x', `http://127.0.0.1:${proxy.http.port}`, '--proxytunnel', `http://[::1]:${o.port}/v6-tunnel`]);
  assert.equal(JSON.parse(stdout).url, '/v6-tunnel');
  const socket = connect({ host: '127.0.0.1', port: proxy.socks.port });
  await once(socket, 'connect');
  const address = Buffer.alloc(16);
  address[15] = 1;
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 4]), address, Buffer.from([o.port >> 8, o.port & 0xff])]));
  socket.write(`GET /v6-socks HTTP/1.1\r\nHost: [::1]:${o.port}\r\nConnection: close\r\n\r\n`);
  let text = '';
  for await (const chunk of socket) text += (chunk as Buffer).subarray(text.length === 0 ? 2 + 22 : 0).toString('latin1');
  assert.match(text, /"url":"\/v6-socks"/);
});

test('WebSocket upgrade is passed through; a declined upgrade closes the client connection after the answer', { timeout: 30_000 }, async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const server = createServer((_req, res) => res.writeHead(404, { 'content-length': '9' }).end('not here\n'));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/ws') return socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n');
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(`echo:${String(data)}`)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;

  const handshake = (path: string): string =>
    `GET http://127.0.0.1:${port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const socket: Socket = connect({ host: '127.0.0.1', port: proxy.http.port });
  await once(socket, 'connect');
  socket.write(handshake('/ws'));
  const [head] = (await once(socket, 'data')) as [Buffer];
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
  const payload = Buffer.from('hello');
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  const [frame] = (await once(socket, 'data')) as [Buffer];
  assert.equal(frame.subarray(2).toString(), 'echo:hello');
  socket.destroy();

  const declined = connect({ host: '127.0.0.1', port: proxy.http.port });
  await once(declined, 'connect');
  declined.write(handshake('/other'));
  let answer = '';
  declined.on('data', (c) => (answer += c.toString('latin1')));
  await once(declined, 'close');
  assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\n\r\nno\n$/);
});

test('errors a client sees: 502 with a reason when the dial fails, 504 when the upstream never answers, 403 without a matching rule', { timeout: 30_000 }, async (t) => {
  const silent = createNetServer(() => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => silent.close());
  const silentPort = (silent.address() as { port: number }).port;
  const proxy = await startEngine(
    snapshot(
      [
        { name: 'direct', type: 'direct' },
        { name: 'stuck', type: 'http', host: '127.0.0.1', port: silentPort },
        { name: 'germany', type: 'wireguard', configFile: '/nonexistent/germany.conf' },
      ],
      [
        { name: 'stuck', domains: ['stuck.test'], backends: [{ name: 'stuck', weight: 1 }] },
        { name: 'vpn', domains: ['*.vpn.test'], backends: [{ name: 'germany', weight: 1 }] },
        { name: 'local', domains: ['127.0.0.1', 'localhost'], backends: [{ name: 'direct', weight: 1 }] },
      ],
      { network: { ...snapshot().network, timeouts: { connectMs: 500, readMs: 2000, writeMs: 2000, idleMs: 5000 } } },
    ),
  );
  t.after(() => proxy.stop());
  const refused = await send(proxy.http.port, { path: 'http://127.0.0.1:1/' });
  assert.equal(refused.res.statusCode, 502);
  assert.equal(refused.body.toString(), '127.0.0.1:1: connection refused\n');
  assert.equal(refused.res.headers['proxy-status'], 'simple-proxy; error=connection_refused');

  const raw = connect({ host: '127.0.0.1', port: proxy.http.port });
  raw.write('CONNECT stuck.test:443 HTTP/1.1\r\nHost: stuck.test:443\r\n\r\n');
  let text = '';
  raw.on('data', (c) => (text += c.toString('latin1')));
  await once(raw, 'close');
  assert.match(text, /^HTTP\/1\.1 504 Gateway Timeout\r\n[^]*no answer to CONNECT within 500 ms/);

  const tunnelBackend = await send(proxy.http.port, { path: 'http://www.vpn.test/' });
  assert.equal(tunnelBackend.res.statusCode, 502);
  assert.match(tunnelBackend.body.toString(), /backend "germany" \(wireguard\) is unavailable/);

  const unrouted = await send(proxy.http.port, { path: 'http://unrouted.example/' });
  assert.equal(unrouted.res.statusCode, 403);
  assert.match(unrouted.body.toString(), /no routing rule matches unrouted\.example/);
});
