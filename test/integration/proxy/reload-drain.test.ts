import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
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
