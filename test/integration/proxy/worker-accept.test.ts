import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { snapshot } from './engine-fixture.js';

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
