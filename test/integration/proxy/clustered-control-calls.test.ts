import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { METRICS_ON } from '../policy/policy-fixture.js';
import { snapshot } from './engine-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection, in bytes. */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('5,000 control calls to clustered workers (status, metrics, reload) leave no listener behind and memory flat', { timeout: 120_000 }, async (t) => {
  const config = snapshot(undefined, undefined, { metrics: METRICS_ON });
  const engine = new ClusteredEngine(config, 2);
  await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const exitListeners = (): number[] => Object.values(cluster.workers ?? {}).map((w) => w!.listenerCount('exit'));

  let calls = 0;
  const round = async (): Promise<void> => {
    // Mostly scrapes and status, as a monitoring system would; a reload now and then.
    for (let i = 0; i < 50; i++) {
      await Promise.all([engine.stats(), engine.metricsJson()]);
      calls += 2;
    }
    await engine.reload({ ...config, version: `v${calls}` });
    calls++;
  };
  for (let i = 0; i < 5; i++) await round();
  const listenersBefore = exitListeners();
  const heapBefore = heapAfterGc();
  while (calls < 5_000) await round();
  const heapAfter = heapAfterGc();
  const listenersAfter = exitListeners();
  console.log(`${calls} control calls: heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB, exit listeners per worker ${listenersBefore} → ${listenersAfter}`);

  assert.deepEqual(listenersAfter, listenersBefore, 'no exit listener left behind per call');
  assert.ok(heapAfter - heapBefore < 5e6, `daemon heap grew ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB`);
  assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
});
