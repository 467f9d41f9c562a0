import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import type { BackendHealthEvent } from '../../../src/health/health-state.js';
import { echoOrigin } from '../proxy/raw-peers.js';
import { freePort } from '../../helpers/ports.js';
import { get, poolConfig, startFront, startUpstreams, until } from './pool-fixture.js';

test('passive health: an unchecked member whose connections fail is marked unhealthy by traffic and skipped; a working one is marked healthy', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const [live] = await startUpstreams(1);
  t.after(() => live.stop());
  const dead = { http: { port: await freePort() } };
  const front = await startFront(t, poolConfig([dead, live], { weights: [1, 1] }));
  const health = () => front.engine.health();
  assert.equal(health().up0.status, 'unknown');
  const events: BackendHealthEvent[] = [];
  front.engine.on('backend:health', (e) => events.push(e));

  for (let i = 0; i < 10; i++) assert.equal((await get(front.port, `http://127.0.0.1:${origin.port}/r${i}`)).status, 200, 'a failed dial is retried on the other member');
  assert.equal(health().up0.status, 'unhealthy');
  assert.equal(health().up0.checked, false);
  assert.match(health().up0.reason ?? '', /^3 connections in a row failed: upstream 127\.0\.0\.1:\d+: connection refused/);
  assert.match(health().up0.lastError?.message ?? '', /connection refused/);
  assert.equal(health().up1.status, 'healthy');
  assert.ok(health().up1.since !== null);
  const tried = front.records.filter((r) => r.path === '/r9' || r.path === '/r8' || r.path === '/r7');
  assert.ok(tried.every((r) => r.backend === 'up1'), 'the unhealthy member is skipped for a while');
  assert.deepEqual(events.map((e) => `${e.backend} ${e.status}`).sort(), ['up0 unhealthy', 'up1 healthy']);
});

test('passive health with engine workers: a single unchecked upstream that refuses shows as unhealthy; once it answers, healthy again', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const port = await freePort();
  const config = poolConfig([{ http: { port } }], { weights: [1], workers: 2 });
  const engine = new ClusteredEngine(config, 2);
  const front = (await engine.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => engine.stop({ drainMs: 0 }).then(() => undefined));

  for (let i = 0; i < 4; i++) assert.equal((await get(front, `http://127.0.0.1:${origin.port}/down${i}`)).status, 502, 'the only backend is still tried');
  await until(() => engine.health().up0.status === 'unhealthy', 5000, 'workers\' failures to mark up0 unhealthy');
  assert.equal(engine.health().up0.checked, false);

  const [upstream] = await startUpstreams(1, [port]);
  t.after(() => upstream.stop());
  await until(async () => (await get(front, `http://127.0.0.1:${origin.port}/up`)).status === 200 && engine.health().up0.status === 'healthy', 10_000, 'a success to mark up0 healthy');
});
