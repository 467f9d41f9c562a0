import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { origin } from '../policy/policy-fixture.js';
import { tunnel } from './cluster-fixture.js';
import { snapshot, startEngine } from './engine-fixture.js';

/** The environment a running process was started with, read from the kernel. */
function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

test('engine workers on the shared sockets start with UV_TCP_SINGLE_ACCEPT: libuv yields after each accept, so one worker does not take a whole burst', { skip: process.platform !== 'linux', timeout: 60_000 }, async (t) => {
  const engine = new ClusteredEngine(snapshot(), 2);
  await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const pids = Object.values(cluster.workers ?? {}).map((worker) => worker!.process.pid!);
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.equal(environmentOf(pid).get('UV_TCP_SINGLE_ACCEPT'), '1', `worker ${pid} yields after each accept`);
});

test('a connection another worker passed meets this worker\'s admission like one it accepted: served under max_connections, refused at it, and counted as received', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  const base = snapshot();
  const running = await startEngine({ ...base, network: { ...base.network, limits: { ...base.network.limits, maxConnections: 1 } } });
  // A loopback server stands for the worker that accepted: it passes every connection, unread, to the engine's HTTP listener (index 0).
  const passer = createServer((socket) => running.engine.worker.accept(0, socket));
  passer.listen(0, '127.0.0.1');
  await once(passer, 'listening');
  const open: Socket[] = [];
  t.after(async () => {
    for (const socket of open) socket.destroy();
    passer.close();
    site.server.close();
    await running.stop();
  });
  const port = (passer.address() as { port: number }).port;
  const first = await tunnel(port, site.port, '127.0.0.1');
  open.push(first.socket);
  assert.equal(first.status, 200, 'under max_connections a passed connection is served');
  const second = await tunnel(port, site.port, '127.0.0.1');
  open.push(second.socket);
  assert.equal(second.status, 503, 'at max_connections a passed connection is refused like any other');
  const { active, received } = running.engine.worker.load();
  assert.deepEqual({ active, received }, { active: 1, received: 2 });
});
