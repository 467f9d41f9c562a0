import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { BackendSpec, RuleSpec } from '../../../src/config/model.js';
import { connectTunnel } from './raw-peers.js';
import { snapshot, startEngine } from './engine-fixture.js';
import { until } from '../health/pool-fixture.js';

const DRAIN_MS = 600;

/** The promise's value, or `fallback` after `ms` (the timer does not hold the process). */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms).unref())]);
}

/** Writes a line into a tunnel and waits for the echo server's answer (bounded). */
async function echoes(socket: Socket, text: string): Promise<boolean> {
  if (socket.destroyed) return false;
  socket.write(text);
  return (await within(once(socket, 'data').then(([chunk]) => String(chunk)), 2000, null)) === text;
}

test('reload.drain_timeout: a tunnel through a backend the reload removed is closed after it; tunnels through kept backends survive', { timeout: 30_000 }, async (t) => {
  const echo = createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const echoPort = (echo.address() as { port: number }).port;

  const backends: BackendSpec[] = [
    { name: 'kept', type: 'direct' },
    { name: 'gone', type: 'direct' },
    { name: 'rechecked', type: 'direct' },
  ];
  const route = (name: string, domain: string): RuleSpec => ({ name, domains: [domain], backends: [{ name, weight: 1 }] });
  const rules = [route('gone', 'localhost'), route('rechecked', 'ip6-localhost.invalid'), route('kept', '*')];
  const running = await startEngine(snapshot(backends, rules, { reload: { drainTimeoutMs: DRAIN_MS } }));
  t.after(() => running.stop());
  const port = running.http.port;

  const kept = (await connectTunnel(port, echoPort)).socket;
  const gone = (await connectTunnel(port, echoPort, 'localhost')).socket;
  t.after(() => [kept, gone].forEach((s) => s.destroy()));
  kept.resume();
  gone.resume();
  assert.ok(await echoes(kept, 'k0'));
  assert.ok(await echoes(gone, 'g0'));

  // The reload removes "gone" (and its rule); "rechecked" only gains a health check: its route is the same.
  const next = snapshot(
    [backends[0], { ...backends[2], healthCheck: { type: 'tcp', target: `127.0.0.1:${echoPort}`, interval: '1h' } as Record<string, unknown> }],
    [route('rechecked', 'ip6-localhost.invalid'), route('kept', '*')],
    { reload: { drainTimeoutMs: DRAIN_MS }, version: 'next' },
  );
  const warnings: string[] = [];
  running.engine.on('warning', (w) => warnings.push(w));
  const reloadedAt = Date.now();
  const goneClosed = once(gone, 'close').then(() => Date.now() - reloadedAt);
  await running.engine.reload(next);

  assert.ok(await echoes(gone, 'g1'), 'the old connection keeps working during the drain');
  const closedAfter = await within(goneClosed, 5000, -1);
  assert.ok(closedAfter >= DRAIN_MS - 50 && closedAfter < DRAIN_MS + 1500, `closed ${closedAfter} ms after the reload (drain timeout ${DRAIN_MS} ms)`);
  await until(() => running.records.some((r) => r.host === 'localhost'), 2000, 'the closed tunnel\'s record');
  const record = running.records.find((r) => r.host === 'localhost');
  assert.equal(record?.backend, 'gone');
  assert.equal(record?.error, 'backend-removed');
  assert.deepEqual(warnings, [`closed 1 tunnel through gone, removed or changed by a reload, after reload.drain_timeout (${DRAIN_MS} ms)`]);

  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  assert.ok(await echoes(kept, 'k1'), 'the tunnel through the kept backend is still up, well past the drain timeout');
  // New connections to the removed rule's host take the new config.
  const fresh = (await connectTunnel(port, echoPort, 'localhost')).socket;
  t.after(() => fresh.destroy());
  fresh.resume();
  assert.ok(await echoes(fresh, 'f0'));
  assert.equal(running.engine.explainRoute('localhost').backend, 'kept');
});

/** What a plain-HTTP exchange through the proxy came to: status, body so far, and whether the body ended cleanly. */
interface Exchange {
  status: number;
  body: string;
  complete: boolean;
}

/** Sends a GET through the proxy; `headers` resolves when the answer starts, `done` when the exchange ends either way. */
function proxiedGet(proxyPort: number, url: string): { headers: Promise<IncomingMessage>; done: Promise<Exchange> } {
  const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent: false });
  const headers = once(req, 'response').then(([res]) => res as IncomingMessage);
  const done = new Promise<Exchange>((resolve) => {
    req.once('error', () => resolve({ status: 0, body: '', complete: false }));
    void headers.then((res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body, complete: true }));
      res.once('error', () => resolve({ status: res.statusCode ?? 0, body, complete: false }));
      res.once('close', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
    });
  });
  req.end();
  return { headers, done };
}

test('reload.drain_timeout: plain-HTTP requests through a backend the reload removed are ended after it (a response under way is cut, one not started is a 502); requests through kept backends finish', { timeout: 30_000 }, async (t) => {
  // /slow answers with a first chunk and holds the rest; /wait never answers. The test finishes them.
  const held: { url: string; res: ServerResponse }[] = [];
  const origin = createHttpServer((req, res) => {
    if (req.url === '/slow') {
      res.writeHead(200);
      res.write('first ');
    }
    held.push({ url: req.url ?? '', res });
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  const originPort = (origin.address() as { port: number }).port;

  const backends: BackendSpec[] = [
    { name: 'kept', type: 'direct' },
    { name: 'gone', type: 'direct' },
  ];
  const route = (name: string, domain: string): RuleSpec => ({ name, domains: [domain], backends: [{ name, weight: 1 }] });
  const running = await startEngine(snapshot(backends, [route('gone', 'localhost'), route('kept', '*')], { reload: { drainTimeoutMs: DRAIN_MS } }));
  t.after(() => running.stop());
  const port = running.http.port;

  const goneSlow = proxiedGet(port, `http://localhost:${originPort}/slow`);
  const goneWaiting = proxiedGet(port, `http://localhost:${originPort}/wait`);
  const keptSlow = proxiedGet(port, `http://127.0.0.1:${originPort}/slow`);
  await Promise.all([goneSlow.headers, keptSlow.headers]);
  await until(() => held.length === 3, 5000, 'three requests at the origin');

  const warnings: string[] = [];
  running.engine.on('warning', (w) => warnings.push(w));
  const reloadedAt = Date.now();
  const goneEnded = goneSlow.done.then((exchange) => ({ exchange, after: Date.now() - reloadedAt }));
  await running.engine.reload(snapshot([backends[0]], [route('kept', '*')], { reload: { drainTimeoutMs: DRAIN_MS }, version: 'next' }));

  const { exchange, after } = await within(goneEnded, 5000, { exchange: { status: -1, body: '', complete: false }, after: -1 });
  assert.deepEqual(exchange, { status: 200, body: 'first ', complete: false }, 'the response under way is cut');
  assert.ok(after >= DRAIN_MS - 50 && after < DRAIN_MS + 1500, `cut ${after} ms after the reload (drain timeout ${DRAIN_MS} ms)`);
  const waited = await within(goneWaiting.done, 5000, { status: -1, body: '', complete: false });
  assert.deepEqual(waited, { status: 502, body: 'its backend was removed or changed by a reload\n', complete: true });
  await until(() => running.records.filter((r) => r.host === 'localhost').length === 2, 2000, 'the two records through "gone"');
  assert.deepEqual(
    running.records.filter((r) => r.host === 'localhost').map((r) => [r.path, r.backend, r.error]).sort(),
    [
      ['/slow', 'gone', 'backend-removed'],
      ['/wait', 'gone', 'backend-removed'],
    ],
  );
  assert.deepEqual(warnings, [`closed 2 HTTP requests through gone, removed or changed by a reload, after reload.drain_timeout (${DRAIN_MS} ms)`]);

  // The response through the kept backend is still open well past the drain timeout, and completes.
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  const keptHeld = held.find((h) => h.url === '/slow' && !h.res.destroyed && h.res.req.headers.host?.startsWith('127.0.0.1'));
  assert.ok(keptHeld, 'the kept request is still open at the origin');
  keptHeld.res.end('rest');
  assert.deepEqual(await within(keptSlow.done, 5000, null), { status: 200, body: 'first rest', complete: true });
});
