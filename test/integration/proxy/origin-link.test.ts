import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { snapshot, startEngine } from './engine-fixture.js';
import { noClientsLeft } from './raw-client.js';
import { until } from '../health/pool-fixture.js';

/** What the scripted origin does for one request: response parts written one by one (a promise in between: waited for), or 'drop' (close without answering). */
type Answer = { parts: (string | Promise<void>)[] } | 'drop';

/**
 * An origin on raw sockets that answers each request head with `script(connection, request, head)`
 * (both counted from 0): every framing and fault is written exactly as given.
 */
async function scriptedOrigin(t: TestContext, script: (connection: number, index: number, head: string) => Answer) {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    const connection = sockets.push(socket) - 1;
    let index = 0;
    let pending = '';
    socket.on('error', () => undefined);
    socket.on('data', async (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const answer = script(connection, index++, head);
        if (answer === 'drop') return void socket.destroy();
        for (const part of answer.parts) {
          if (typeof part !== 'string') await part;
          else socket.write(part, 'latin1');
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, sockets };
}

/** An engine in front of the origins, and a GET through it on one kept-alive client connection; `progress` hears each body as it grows. */
async function proxied(t: TestContext, progress: (body: string) => void = () => undefined, config = snapshot()) {
  const proxy = await startEngine(config);
  t.after(() => proxy.stop());
  // One client connection, kept alive: every request below goes on it.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const get = (url: string, method = 'GET') =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string; complete: boolean }>((resolve, reject) => {
      let answered = false;
      const req = request({ host: '127.0.0.1', port: proxy.http.port, path: url, method, agent }, (res) => {
        answered = true;
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => progress((body += chunk)));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete: res.complete }));
      });
      // A response cut short also fails its request ('aborted'): what came of it is the result.
      req.on('error', (error) => answered || reject(error));
      req.end();
    });
  return { proxy, get };
}

test("a client connection's requests share one origin connection, whatever framing each answer has", async (t) => {
  const answers: Record<string, Answer> = {
    '/length': { parts: ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', 'lo'] },
    '/chunked': { parts: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r', '\n4;x=y\r\ndefg\r\n0\r\nX-Trailer: t\r\n', '\r\n'] },
    '/head': { parts: ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'] },
    '/empty': { parts: ['HTTP/1.1 204 No Content\r\n\r\n'] },
    '/same': { parts: ['HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n'] },
    '/hints': { parts: ['HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'] },
  };
  const heads: string[] = [];
  const origin = await scriptedOrigin(t, (_connection, _index, head) => {
    heads.push(head);
    return answers[head.split(' ')[1]] ?? 'drop';
  });
  const { get } = await proxied(t);
  const base = `http://127.0.0.1:${origin.port}`;
  assert.deepEqual(await get(`${base}/length`).then((r) => [r.status, r.body]), [200, 'hello']);
  const chunked = await get(`${base}/chunked`);
  assert.deepEqual([chunked.status, chunked.body, chunked.complete], [200, 'abcdefg', true]);
  assert.deepEqual(await get(`${base}/head`, 'HEAD').then((r) => [r.status, r.headers['content-length'], r.body]), [200, '10', '']);
  assert.deepEqual(await get(`${base}/empty`).then((r) => [r.status, r.body]), [204, '']);
  assert.deepEqual(await get(`${base}/same`).then((r) => [r.status, r.body]), [304, '']);
  assert.deepEqual(await get(`${base}/hints`).then((r) => [r.status, r.body]), [200, 'ok']);
  assert.equal(origin.sockets.length, 1, 'one origin connection for the six requests');
  assert.match(heads[0], /^GET \/length HTTP\/1\.1\r\n/);
  assert.match(heads[0], /\r\nhost: 127\.0\.0\.1:\d+\r\n/i);
  assert.match(heads[2], /^HEAD \/head HTTP\/1\.1\r\n/);
});

test('an origin that lets its kept-alive connection go as the next request arrives: the request goes again, on a new connection', async (t) => {
  const origin = await scriptedOrigin(t, (connection, index) => (connection === 0 && index === 1 ? 'drop' : { parts: [`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${connection}${index}`] }));
  const { proxy, get } = await proxied(t);
  const url = `http://127.0.0.1:${origin.port}/`;
  assert.deepEqual(await get(url).then((r) => [r.status, r.body]), [200, '00']);
  assert.deepEqual(await get(url).then((r) => [r.status, r.body]), [200, '10'], 'answered on the second connection');
  assert.deepEqual(await get(url).then((r) => [r.status, r.body]), [200, '11'], 'which is kept');
  assert.equal(origin.sockets.length, 2);
  await until(() => proxy.records.length === 3, 5000, 'three records');
  assert.deepEqual(proxy.records.map((r) => [r.status, r.error]), [[200, undefined], [200, undefined], [200, undefined]]);
});

test('an answer that is not valid HTTP/1.1 is a 502 before its head, and ends the client connection after it', async (t) => {
  // The bad chunk size goes out once the client has the first chunk: it is not read with it.
  let clientHasFirst = (): void => undefined;
  const firstArrived = new Promise<void>((resolve) => (clientHasFirst = resolve));
  const origin = await scriptedOrigin(t, (_connection, _index, head) =>
    head.startsWith('GET /both ')
      ? { parts: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'] }
      : { parts: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', firstArrived, 'zz\r\n'] },
  );
  const { proxy, get } = await proxied(t, (body) => body === 'abc' && clientHasFirst());
  const both = await get(`http://127.0.0.1:${origin.port}/both`);
  assert.equal(both.status, 502);
  assert.match(both.body, /not valid HTTP\/1\.1/);
  const cut = await get(`http://127.0.0.1:${origin.port}/cut`);
  assert.deepEqual([cut.status, cut.body, cut.complete], [200, 'abc', false]);
  await until(() => proxy.records.length === 2, 5000, 'two records');
  assert.deepEqual(proxy.records.map((r) => [r.path, r.status, r.error]), [
    ['/both', 502, 'protocol'],
    ['/cut', 200, 'HPE_INVALID_CHUNK_SIZE'],
  ]);
});

test('a client that goes away in the middle of an answer takes its origin connection with it', async (t) => {
  const origin = await scriptedOrigin(t, () => ({ parts: ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst'] }));
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const req = request({ host: '127.0.0.1', port: proxy.http.port, path: `http://127.0.0.1:${origin.port}/` });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  await once(res, 'data');
  req.destroy();
  await until(() => origin.sockets.length === 1 && origin.sockets[0].destroyed, 5000, 'the origin connection closed');
  await until(() => proxy.records.length === 1, 5000, 'the record');
  assert.equal(proxy.records[0].error, 'client-closed');
});

test('pipelined requests go out one after the other on the one origin connection, and their answers come back in order', async (t) => {
  const origin = await scriptedOrigin(t, (_connection, _index, head) => ({ parts: [`HTTP/1.1 200 OK\r\nContent-Length: ${head.split(' ')[1].length}\r\n\r\n`, head.split(' ')[1]] }));
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const client = connect(proxy.http.port, '127.0.0.1');
  t.after(() => client.destroy());
  const url = (path: string) => `GET http://127.0.0.1:${origin.port}${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  client.write(url('/first') + url('/second') + url('/third'));
  let received = '';
  client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  await until(() => received.includes('/third'), 10_000, 'three answers');
  const bodies = [...received.matchAll(/\r\n\r\n(\/[a-z]+)/g)].map((m) => m[1]);
  assert.deepEqual(bodies, ['/first', '/second', '/third']);
  assert.equal(origin.sockets.length, 1);
});

test('an origin connection left idle for network.keepalive.max_idle_time is closed, and the next request opens a new one', async (t) => {
  const origin = await scriptedOrigin(t, () => ({ parts: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'] }));
  const base = snapshot();
  const { get } = await proxied(t, undefined, { ...base, network: { ...base.network, keepalive: { ...base.network.keepalive, maxIdleTimeMs: 200 } } });
  const url = `http://127.0.0.1:${origin.port}/`;
  assert.equal((await get(url)).status, 200);
  await until(() => origin.sockets[0].destroyed, 5000, 'the idle origin connection closed');
  assert.equal((await get(url)).status, 200);
  assert.equal(origin.sockets.length, 2);
});

test('a client that opens a connection per request: the origin connection the last one left is taken by the next', async (t) => {
  const origin = await scriptedOrigin(t, (connection, index) => ({ parts: [`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${connection}${index}`] }));
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const once1 = (path: string) =>
    new Promise<string>((resolve, reject) => {
      // agent: false, a connection of its own that closes after the answer.
      const req = request({ host: '127.0.0.1', port: proxy.http.port, path: `http://127.0.0.1:${origin.port}${path}`, agent: false }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await once1('/a'), '00');
  // The first client connection is closed at the proxy too: its origin connection is parked.
  await noClientsLeft(proxy);
  assert.equal(await once1('/b'), '01', 'the second request on the first origin connection');
  assert.equal(origin.sockets.length, 1);
});
