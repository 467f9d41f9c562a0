import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import type { ConfigSnapshot, ForwardedFor } from '../../../src/config/model.js';
import { viaToken } from '../../../src/proxy/via-token.js';
import { curl, exchange } from '../policy/policy-fixture.js';
import { snapshot, startEngine, type RunningEngine } from './engine-fixture.js';

/** A raw origin: each request head it reads is kept, and answered with what `script` returns for its path (null: say nothing). */
async function rawOrigin(t: TestContext, script: (path: string, head: string) => string | null): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    let buffered = '';
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        heads.push(head);
        const answer = script(head.split(' ')[1] ?? '/', head);
        if (answer !== null) socket.write(answer);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.close();
    for (const socket of sockets) socket.destroy();
  });
  return { port: (server.address() as { port: number }).port, heads };
}

async function proxyFor(t: TestContext, network: Partial<ConfigSnapshot['network']> = {}): Promise<RunningEngine> {
  const base = snapshot();
  const proxy = await startEngine({ ...base, network: { ...base.network, ...network } });
  t.after(() => proxy.stop());
  return proxy;
}

/** Sends one request through the proxy on a fresh connection and returns everything it answered. */
async function ask(proxy: RunningEngine, request: string, timeoutMs = 5000): Promise<string> {
  return (await exchange(proxy.http.port, '127.0.0.1', request, { timeoutMs })).reply.toString('latin1');
}

const get = (port: number, path: string, extra = '', method = 'GET', version = '1.1'): string =>
  `${method} http://127.0.0.1:${port}${path} HTTP/${version}\r\nHost: 127.0.0.1:${port}\r\n${extra}Connection: close\r\n\r\n`;

test('1xx answers (103 Early Hints) reach HTTP/1.1 clients ahead of the final answer, never HTTP/1.0 ones', async (t) => {
  const origin = await rawOrigin(t, () => 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const proxy = await proxyFor(t);
  assert.match(await ask(proxy, get(origin.port, '/')), /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/style\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
  assert.match(await ask(proxy, get(origin.port, '/', '', 'GET', '1.0')), /^HTTP\/1\.1 200 OK\r\n[^]*ok$/, 'HTTP/1.0: no interim answer');
});

test('a 304 or 204 with Content-Length and no body, and a HEAD answer, are relayed as the origin sent them', async (t) => {
  const origin = await rawOrigin(t, (path) => {
    if (path === '/304') return 'HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "v1"\r\n\r\n';
    if (path === '/204') return 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n';
    if (path === '/head') return 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n';
    return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  });
  const proxy = await proxyFor(t);
  const notModified = await ask(proxy, get(origin.port, '/304', 'If-None-Match: "v1"\r\n'));
  assert.match(notModified, /^HTTP\/1\.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "v1"\r\n/);
  assert.ok(notModified.endsWith('\r\n\r\n'), 'no body');
  assert.match(await ask(proxy, get(origin.port, '/204')), /^HTTP\/1\.1 204 No Content\r\nContent-Length: 0\r\n[^]*\r\n\r\n$/);
  assert.match(await ask(proxy, get(origin.port, '/head', '', 'HEAD')), /^HTTP\/1\.1 200 OK\r\nContent-Length: 5000\r\n[^]*\r\n\r\n$/);
  // Still one pooled origin connection working after them.
  assert.match(await ask(proxy, get(origin.port, '/after')), /^HTTP\/1\.1 200 /);
});

test('Max-Forwards: TRACE and OPTIONS with 0 are answered by the proxy (no credentials echoed), others go on with it lowered by one', async (t) => {
  const origin = await rawOrigin(t, () => 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\norigin');
  const proxy = await proxyFor(t);
  const options = await ask(proxy, get(origin.port, '/', 'Max-Forwards: 0\r\n', 'OPTIONS'));
  assert.match(options, /^HTTP\/1\.1 200 OK\r\n[^]*allow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT\r\n/i);
  const trace = await ask(proxy, get(origin.port, '/trace', 'Max-Forwards: 0\r\nCookie: session=SECRET\r\nProxy-Authorization: Basic U0VDUkVU\r\nX-Probe: 1\r\n', 'TRACE'));
  assert.match(trace, /^HTTP\/1\.1 200 OK\r\n[^]*content-type: message\/http\r\n[^]*\r\n\r\nTRACE http:\/\/127\.0\.0\.1:\d+\/trace HTTP\/1\.1\r\nHost: [^]*X-Probe: 1\r\n/i);
  assert.ok(!trace.includes('SECRET') && !trace.includes('U0VDUkVU'), 'credentials and cookies are not echoed');
  assert.equal(origin.heads.length, 0, 'neither reached the origin');

  assert.match(await ask(proxy, get(origin.port, '/', 'Max-Forwards: 3\r\n', 'OPTIONS')), /origin$/);
  assert.match(origin.heads[0], /^OPTIONS \/ HTTP\/1\.1\r\n[^]*max-forwards: 2(\r\n|$)/i);
  await ask(proxy, get(origin.port, '/', 'Max-Forwards: 0\r\n'));
  assert.match(origin.heads[1], /^GET \/ HTTP\/1\.1\r\n[^]*max-forwards: 0(\r\n|$)/i, 'a GET is forwarded with it untouched');
});

test('network.max_header_size (default 64 KiB) bounds request heads on the listener with a 431 naming it, and response heads from origins', async (t) => {
  const origin = await rawOrigin(t, (path) => `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(path === '/big-answer' ? 30_000 : 1)}\r\nContent-Length: 2\r\n\r\nok`);
  const proxy = await proxyFor(t);
  assert.match(await ask(proxy, get(origin.port, '/', `X-Big: ${'a'.repeat(30_000)}\r\n`)), /^HTTP\/1\.1 200 /, '30 KB passes under the default');
  assert.match(await ask(proxy, get(origin.port, '/big-answer')), /^HTTP\/1\.1 200 [^]*ok$/, 'so does a 30 KB response head');
  const over = await ask(proxy, get(origin.port, '/', `X-Big: ${'a'.repeat(70_000)}\r\n`));
  assert.match(over, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*request header fields larger than network\.max_header_size \(65536 bytes\)/);
  const connect = await ask(proxy, `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
  assert.match(connect, /^HTTP\/1\.1 431 /, 'CONNECT too');

  const small = await proxyFor(t, { maxHeaderSize: 4096 });
  assert.match(await ask(small, get(origin.port, '/', `X-Big: ${'a'.repeat(5000)}\r\n`)), /^HTTP\/1\.1 431 [^]*network\.max_header_size \(4096 bytes\)/);
  assert.match(await ask(small, get(origin.port, '/big-answer')), /^HTTP\/1\.1 502 [^]*Proxy-Status: simple-proxy; error=http_response_header_section_size[^]*larger than network\.max_header_size/i);
});

test('errors say what happened: a silent origin is http_response_timeout, an invalid answer http_protocol_error, credentials in the URL are refused with the reason', async (t) => {
  const origin = await rawOrigin(t, (path) => (path === '/silent' ? null : 'HTX/9 nonsense\r\n\r\n'));
  const proxy = await proxyFor(t, { timeouts: { connectMs: 2000, readMs: 800, writeMs: 2000, idleMs: 10_000 } });
  assert.match(await ask(proxy, get(origin.port, '/silent')), /^HTTP\/1\.1 504 [^]*Proxy-Status: simple-proxy; error=http_response_timeout[^]*no response from the origin within network\.timeouts\.read/i);
  assert.match(await ask(proxy, get(origin.port, '/garbage')), /^HTTP\/1\.1 502 [^]*Proxy-Status: simple-proxy; error=http_protocol_error[^]*the origin's response is not valid HTTP\/1\.1/i);
  const userinfo = await ask(proxy, `GET http://user:pw@127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  assert.match(userinfo, /^HTTP\/1\.1 400 [^]*the request target carries credentials \(user:password@host\)[^]*RFC 9110 section 4\.2\.4/);
  assert.equal(origin.heads.filter((h) => h.includes('pw')).length, 0);
});

test('forwarded_for: delete (the default) removes what the client sent; off passes it; append and replace add the client', async (t) => {
  const origin = await rawOrigin(t, () => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const sent = 'X-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\n';
  const seen = async (mode: ForwardedFor | null): Promise<string[]> => {
    const proxy = await proxyFor(t, mode === null ? {} : { forwardedFor: mode });
    await ask(proxy, get(origin.port, '/', sent));
    const head = origin.heads.at(-1)!;
    return head.split('\r\n').filter((line) => /^(x-forwarded-for|forwarded):/i.test(line));
  };
  assert.deepEqual(await seen(null), []);
  assert.deepEqual(await seen('delete'), []);
  assert.deepEqual(await seen('off'), ['X-Forwarded-For: 203.0.113.9', 'Forwarded: for=203.0.113.9']);
  assert.deepEqual(await seen('append'), ['X-Forwarded-For: 203.0.113.9, 127.0.0.1', 'Forwarded: for=203.0.113.9, for=127.0.0.1']);
  assert.deepEqual(await seen('replace'), ['X-Forwarded-For: 127.0.0.1', 'Forwarded: for=127.0.0.1']);

  // A WebSocket upgrade is written by hand, not by the HTTP client: the same rule holds.
  const upgrading = await rawOrigin(t, () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  for (const [mode, want] of [[null, []], ['append', ['X-Forwarded-For: 203.0.113.9, 127.0.0.1', 'Forwarded: for=203.0.113.9, for=127.0.0.1']]] as const) {
    const proxy = await proxyFor(t, mode === null ? {} : { forwardedFor: mode });
    const reply = await ask(proxy, `GET http://127.0.0.1:${upgrading.port}/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n${sent}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, 1000);
    assert.match(reply, /^HTTP\/1\.1 101 /);
    assert.deepEqual(upgrading.heads.at(-1)!.split('\r\n').filter((line) => /^(x-forwarded-for|forwarded):/i.test(line)), want, `upgrade, ${mode ?? 'default'}`);
  }
});

test('the Via token is the same for the same proxy across restarts, and differs between proxies on one host', async (t) => {
  const origin = await rawOrigin(t, () => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const viaOf = async (proxy: RunningEngine): Promise<string> => {
    await ask(proxy, get(origin.port, '/'));
    return /\r\nvia: 1\.1 (simple-proxy-\w+)/i.exec(origin.heads.at(-1)!)![1];
  };
  const first = await startEngine(snapshot());
  const token = await viaOf(first).finally(() => first.stop());
  const other = await proxyFor(t);
  assert.notEqual(await viaOf(other), token, 'another proxy on this host');
  const { http, socks } = first;
  const base = snapshot();
  const again = await startEngine({ ...base, listeners: [{ kind: 'http', host: '127.0.0.1', port: http.port }, { kind: 'socks5', host: '127.0.0.1', port: socks.port }] });
  t.after(() => again.stop());
  assert.equal(await viaOf(again), token, 'the same proxy after a restart');
  assert.equal(viaToken('server', [{ kind: 'http', host: '127.0.0.1', port: http.port }, { kind: 'socks5', host: '127.0.0.1', port: socks.port }]), token, 'derived from host, role and listeners: every worker computes it alike');
  assert.notEqual(viaToken('client', [{ kind: 'http', host: '127.0.0.1', port: http.port }]), token);
});

/** A node:http origin that decides on Expect: 100-continue itself: /reject answers 417 at once, /accept says 100, /silent never does; each answers `got N bytes` once the body is in. */
async function continueOrigin(t: TestContext): Promise<{ port: number; expected: string[]; bodies: Map<string, number> }> {
  const expected: string[] = [];
  const bodies = new Map<string, number>();
  const read = (req: IncomingMessage, res: ServerResponse): void => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => bodies.set(req.url ?? '', (bytes += chunk.length)));
    req.on('end', () => res.end(`got ${bytes} bytes`));
  };
  const server = createHttpServer(read);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    expected.push(req.url ?? '');
    if (req.url === '/reject') {
      req.on('data', (chunk: Buffer) => bodies.set('/reject', (bodies.get('/reject') ?? 0) + chunk.length));
      return void res.writeHead(417, { 'content-type': 'text/plain' }).end('too big for me');
    }
    if (req.url === '/accept') res.writeContinue();
    read(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as { port: number }).port, expected, bodies };
}

/** A raw client connection that can wait (bounded) for a pattern in what the proxy answered so far. */
async function converse(t: TestContext, port: number): Promise<{ socket: Socket; until(pattern: RegExp): Promise<string> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  let reply = '';
  socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  t.after(() => socket.destroy());
  const until = async (pattern: RegExp): Promise<string> => {
    for (const deadline = Date.now() + 10_000; !pattern.test(reply); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(reply)}`);
    }
    return reply;
  };
  return { socket, until };
}

const BODY = 'x'.repeat(2048);
const expecting = (port: number, path: string): string =>
  `POST http://127.0.0.1:${port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: 100-continue\r\nContent-Length: ${BODY.length}\r\n\r\n`;

test('Expect: 100-continue with curl and a 2 KiB body: the origin\'s 417 reaches curl and no body is sent; its 100 lets the body through', async (t) => {
  const origin = await continueOrigin(t);
  const proxy = await proxyFor(t);
  const post = (path: string) =>
    curl(['-v', '-x', `http://127.0.0.1:${proxy.http.port}`, '-H', 'Expect: 100-continue', '--expect100-timeout', '10', '--data-binary', BODY, '-w', '\n%{http_code}', `http://127.0.0.1:${origin.port}${path}`]);
  const rejected = await post('/reject');
  assert.equal(rejected.stdout, 'too big for me\n417');
  assert.equal(origin.bodies.get('/reject') ?? 0, 0, 'the body never reached the origin');
  assert.doesNotMatch(rejected.stderr, /< HTTP\/1\.1 100 Continue/, 'no 100 before the final answer');
  const accepted = await post('/accept');
  assert.equal(accepted.stdout, 'got 2048 bytes\n200');
  assert.match(accepted.stderr, /< HTTP\/1\.1 100 Continue/);
  assert.deepEqual(origin.expected, ['/reject', '/accept'], 'the expectation went on to the origin');
});

test('Expect: 100-continue on a raw socket: a final answer (after a 103) comes with no 100 and closes the connection; the origin\'s 100 is relayed; a silent origin gets the proxy\'s own 100 after a bounded wait', async (t) => {
  const raw = await rawOrigin(t, (path) =>
    (path === '/hints' ? 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' : '') + 'HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n');
  const proxy = await proxyFor(t);
  const rejected = await ask(proxy, expecting(raw.port, '/reject'));
  assert.match(rejected, /^HTTP\/1\.1 417 Expectation Failed\r\n[^]*connection: close\r\n/i);
  assert.match(raw.heads[0], /^POST \/reject HTTP\/1\.1\r\n[^]*expect: 100-continue/i);
  assert.match(await ask(proxy, expecting(raw.port, '/hints')), /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/a\.css>; rel=preload\r\n\r\nHTTP\/1\.1 417 /);

  const origin = await continueOrigin(t);
  for (const path of ['/accept', '/silent']) {
    const client = await converse(t, proxy.http.port);
    client.socket.write(expecting(origin.port, path));
    assert.match(await client.until(/\r\n\r\n/), /^HTTP\/1\.1 100 Continue\r\n\r\n$/, path);
    client.socket.write(BODY);
    assert.match(await client.until(/got \d+ bytes$/), /\r\n\r\ngot 2048 bytes$/, path);
  }
  assert.deepEqual(origin.expected, ['/accept', '/silent']);
});
