import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import type { FromWorker } from '../../../src/proxy/worker-protocol.js';
import { TrafficDebugger } from '../../../src/debug/traffic-debugger.js';
import type { TrafficEvent } from '../../../src/debug/debug-request.js';
import { debugSpec } from '../../../src/config/normalize.js';
import { snapshot } from './engine-fixture.js';
import { waitFor } from '../../helpers/run.js';

function get(proxyPort: number, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A pause before checking that something did NOT happen (what must happen is waited for). */
const quiet = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

test('clustered engine: the debugger records in the workers, and records cross to the primary only while someone watches', { timeout: 60_000 }, async (t) => {
  const origin = createServer((req, res) => res.end(`hello ${req.url}`));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => origin.close());
  const originPort = (origin.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'clustered-debugger-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'traffic.log');
  const spec = { ...debugSpec(undefined, dir), enabled: true, output: 'file' as const, logFile, history: 50 };

  let recordMessages = 0;
  const onMessage = (_worker: Worker, message: FromWorker): void => {
    if (message.type === 'records') recordMessages++;
  };
  cluster.on('message', onMessage);
  t.after(() => void cluster.off('message', onMessage));

  const engine = new ClusteredEngine(snapshot(), 2);
  const bound = await engine.start();
  t.after(async () => void (await engine.stop({ drainMs: 0 })));
  const port = bound.find((l) => l.kind === 'http')!.port;
  const debug = new TrafficDebugger(engine, spec);
  await debug.enable();

  const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => get(port, `http://127.0.0.1:${originPort}/quiet${i}`)));
  assert.ok(statuses.every((s) => s === 200));
  await quiet();
  assert.equal(recordMessages, 0, 'with nobody watching, no record leaves its worker');
  const kept = await debug.list(100);
  assert.equal(kept.length, 30, 'every record is kept, in the workers');
  assert.ok(kept.every((r, i) => i === 0 || kept[i - 1].startedAt >= r.startedAt), 'newest first across workers');
  const perWorker = await engine.debug({ op: 'counts' });
  assert.equal(perWorker.length, 2);
  assert.equal((await debug.summary()).requests, 30);
  const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
  assert.equal(lines.filter((l) => l.includes('[RES]')).length, 30, 'each worker appends whole lines to the one log');
  assert.ok(lines.every((l) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(REQ|RES)\] id=\w+ /.test(l)), 'no line is cut by another');

  const seen: TrafficEvent[] = [];
  const watch = (event: TrafficEvent): void => void seen.push(event);
  debug.on('traffic', watch);
  await engine.eventsReady();
  assert.equal(await get(port, `http://127.0.0.1:${originPort}/watched`), 200);
  await waitFor('the live records', () => (seen.filter((e) => e.record.path === '/watched').length === 2 ? true : undefined));
  assert.ok(recordMessages > 0, 'a live viewer gets the records');
  assert.deepEqual(
    seen.filter((e) => e.record.path === '/watched').map((e) => e.phase),
    ['request', 'response'],
  );

  debug.off('traffic', watch);
  await engine.eventsReady();
  const before = recordMessages;
  assert.equal(await get(port, `http://127.0.0.1:${originPort}/after`), 200);
  await quiet();
  assert.equal(recordMessages, before, 'once the viewer leaves, records stay in the workers again');
  assert.equal((await debug.list(1))[0].path, '/after');
});
