import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import type { BackendHealthEvent } from '../../../src/health/health-state.js';
import { echoOrigin } from '../proxy/raw-peers.js';
import { get, many, poolConfig, startUpstreams, until } from './pool-fixture.js';

test('clustered engine: checks run once in the primary, workers skip what it marks unhealthy and report their failures back', { timeout: 90_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const upstreams = await startUpstreams(2);
  const running = [...upstreams];
  t.after(() => Promise.all(running.map((u) => u.stop())).then(() => undefined));
  // A long interval: after the first check, only live traffic (passive checks in the workers) can notice a failure.
  const config = poolConfig(upstreams, {
    weights: [1, 1],
    workers: 2,
    healthChecks: { defaults: '{ interval: "60s", timeout: "1s", unhealthy_threshold: 2 }', backend: `{ type: tcp, target: "127.0.0.1:${origin.port}" }` },
  });
  const engine = new ClusteredEngine(config, 2);
  const events: BackendHealthEvent[] = [];
  const records: ConnectionRecord[] = [];
  engine.on('backend:health', (e) => events.push(e));
  engine.on('connection:end', (r) => records.push(r));
  const port = (await engine.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => engine.stop({ drainMs: 0 }).then(() => undefined));
  await until(() => Object.values(engine.health()).every((h) => h.status === 'healthy'), 5000, 'both upstreams healthy');
  assert.equal(engine.health().up0.checks, 1, 'one check per backend, made by the primary only');

  await many(40, 4, async (i) => assert.equal((await get(port, `http://127.0.0.1:${origin.port}/a${i}`)).status, 200));
  running.splice(0, 1);
  await upstreams[0].engine.stop({ drainMs: 1000 });
  const failures: string[] = [];
  await many(60, 4, async (i) => {
    const answer = await get(port, `http://127.0.0.1:${origin.port}/b${i}`);
    if (answer.status !== 200) failures.push(`${answer.status} ${answer.body}`);
  });
  assert.deepEqual(failures, [], 'failed dials were retried on the other member');
  await until(() => engine.health().up0.status === 'unhealthy', 5000, 'workers\' failures to mark up0 unhealthy');
  assert.equal(engine.health().up0.checks, 1, 'no active check ran: live traffic found it');
  assert.match(engine.health().up0.reason ?? '', /connections in a row failed: upstream 127\.0\.0\.1:\d+: connection refused/);
  assert.deepEqual(events.filter((e) => e.backend === 'up0').map((e) => e.status), ['healthy', 'unhealthy']);

  // Every worker now skips up0 without trying it: messages to a worker arrive in order, so once each
  // has answered a stats request it has also applied the health news sent before it.
  await engine.stats();
  // Workers racing before the news reached them may have added a failure or two beyond the threshold.
  const failuresAtMark = engine.health().up0.consecutiveFailures;
  assert.ok(failuresAtMark >= 2, `${failuresAtMark} failures`);
  const mark = Date.now();
  await many(40, 4, async (i) => assert.equal((await get(port, `http://127.0.0.1:${origin.port}/c${i}`)).status, 200));
  await until(() => records.filter((r) => r.startedAt >= mark).length === 40, 5000, 'records from the workers');
  assert.ok(records.filter((r) => r.startedAt >= mark).every((r) => r.backend === 'up1'));
  assert.equal(engine.health().up0.consecutiveFailures, failuresAtMark, 'skipped, so no further failures counted');
});
