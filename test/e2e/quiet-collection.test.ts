import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { curlVia, enginesOf, httpPort, preloadedSandbox } from './cli-harness.js';
import { waitFor } from '../helpers/run.js';

/** A preload (NODE_OPTIONS reaches every process of the daemon) that notes the time of each forced full collection: what gc() runs. */
const HOOK = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { appendFileSync } from 'node:fs';
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) appendFileSync(process.env.GC_LOG_DIR + '/' + process.pid + '.forced', Date.now() + '\\n');
  }
}).observe({ entryTypes: ['gc'] });
`;

/** The addon that hands freed memory back to the system (native/malloc-trim.c), as `npm run build` makes it where a C compiler is. */
const ADDON = resolve(import.meta.dirname, '../../native/malloc-trim.node');

/** Times (ms since the epoch) of the forced collections process `pid` ran so far. */
function forced(dir: string, pid: number): number[] {
  try {
    return readFileSync(join(dir, `${pid}.forced`), 'utf8').trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

for (const workers of [1, 2]) {
  test(`the daemon (workers: ${workers}) runs a full collection once its traffic has gone quiet, though node runs it without --expose-gc, and every process of it hands the freed memory back`, async (t) => {
    const { box, origin } = await preloadedSandbox(t, workers, HOOK, 'GC_LOG_DIR');

    const started = await box.cli(['start']);
    assert.equal(started.code, 0, started.stderr);
    const status = await box.status();
    for (let i = 0; i < 20; i++) assert.match(await curlVia(httpPort(status), `http://127.0.0.1:${origin.port}/q${i}`), / 200$/);
    const lastTraffic = Date.now();
    // Quiet means 6 s without traffic (20 requests are no burst); the deadline is generous for a loaded machine.
    await waitFor('a forced full collection in the daemon after the traffic', () => (forced(box.dir, status.pid).some((at) => at > lastTraffic) ? true : undefined), 40_000);

    // After its collections each process hands what they freed back to the system: the addon that does it is loaded on first use.
    if (!existsSync(ADDON)) return void t.diagnostic('native/malloc-trim.node is not built (no C compiler at build time): not checked');
    const processes = [status.pid, ...enginesOf(status.pid)];
    assert.equal(processes.length, workers === 1 ? 1 : workers + 1, `the daemon and its engine workers: ${processes.join(', ')}`);
    for (const pid of processes) {
      await waitFor(`the memory-returning addon in process ${pid}`, () => (readFileSync(`/proc/${pid}/maps`, 'utf8').includes(ADDON) ? true : undefined), 40_000);
    }
  });
}
