import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { Agent } from 'node:http';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { get } from '../health/pool-fixture.js';
import { origin } from '../policy/policy-fixture.js';
import { snapshot } from './engine-fixture.js';

test('2 engine processes far from max_connections_per_backend: keep-alive requests do not make a worker report its load every 20 ms', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const base = snapshot();
  const engine = new ClusteredEngine(snapshot(undefined, undefined, { network: { ...base.network, limits: { ...base.network.limits, maxConnectionsPerBackend: 100_000 } } }), 2);
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const port = bound.find((l) => l.kind === 'http')!.port;
  let reports = 0;
  const count = (_worker: Worker, message: { type?: string }): void => {
    if (message?.type === 'load') reports++;
  };
  cluster.on('message', count);
  t.after(() => cluster.off('message', count));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  // One connection: every request takes and gives back a slot of the backend on the worker that has it.
  assert.equal((await get(port, `http://127.0.0.1:${site.port}/warm`, { agent })).status, 200);
  await engine.stats();
  reports = 0;
  const began = performance.now();
  let requests = 0;
  while (performance.now() - began < 2_000) {
    assert.equal((await get(port, `http://127.0.0.1:${site.port}/r${requests}`, { agent })).status, 200);
    requests++;
  }
  const seconds = (performance.now() - began) / 1000;
  t.diagnostic(`${requests} requests and ${reports} load reports in ${seconds.toFixed(1)} s`);
  // Within 4,096 of the cap a change goes out within 20 ms (up to 50 a second while requests flow); this far from it, every 200 ms.
  assert.ok(requests / seconds > 60, `requests flowed faster than one per 20 ms (${requests} in ${seconds.toFixed(1)} s)`);
  assert.ok(reports / seconds <= 12, `${reports} load reports in ${seconds.toFixed(1)} s (${requests} requests)`);
});
