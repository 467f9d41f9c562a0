import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugSpec } from '../../../src/config/model.js';
import type { CaptureSettings, ConnectionRecord } from '../../../src/protocol/connection-record.js';
import type { EngineEvents } from '../../../src/engine/engine-api.js';
import type { TrafficEvent } from '../../../src/debug/debug-request.js';
import { TrafficRecorder } from '../../../src/debug/traffic-recorder.js';
import { debugSpec } from '../../../src/config/normalize.js';

const spec = (logFile: string, extra: Partial<DebugSpec> = {}): DebugSpec => ({
  enabled: true,
  logRequests: true,
  logResponses: true,
  logHeaders: true,
  bodyBytes: 0,
  output: 'file',
  logFile,
  maskHeaders: ['authorization'],
  history: 3,
  filter: { domains: [], methods: [], statusCodes: [] },
  mitm: debugSpec(undefined, '/').mitm,
  ...extra,
});

const record = (id: string, startedAt: number, host = 'example.com'): ConnectionRecord => ({ id, startedAt, protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, method: 'GET', host, port: 80, path: `/${id}`, bytesIn: 1, bytesOut: 2 });

function recorder(): { engine: EventEmitter<EngineEvents>; rec: TrafficRecorder; published: TrafficEvent[]; captured: (CaptureSettings | null)[] } {
  const engine = new EventEmitter<EngineEvents>();
  const published: TrafficEvent[] = [];
  const captured: (CaptureSettings | null)[] = [];
  const rec = new TrafficRecorder(engine, { capture: (c) => captured.push(c), publish: (e) => published.push(e), warn: () => undefined });
  return { engine, rec, published, captured };
}

test('one process: records kept in start order whatever the order they arrive in, bounded by history', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { engine, rec, published, captured } = recorder();
  await rec.answer({ op: 'set', state: { spec: spec(join(dir, 'traffic.log')), on: true } });
  assert.deepEqual(captured, [{ headers: true, bodyBytes: 0 }], 'headers are asked of the engine');
  // A refusal ends (without a start) after a later request was routed.
  engine.emit('connection:start', record('b', 2_000));
  engine.emit('connection:end', { ...record('a', 1_000), status: 403, durationMs: 1 });
  engine.emit('connection:start', record('c', 3_000));
  assert.deepEqual((await rec.answer({ op: 'list', limit: 10 })).map((r) => r.id), ['c', 'b', 'a'], 'newest first');
  engine.emit('connection:start', { ...record('d', 4_000), requestHeaders: ['Authorization', 'Bearer secret'] });
  assert.deepEqual((await rec.answer({ op: 'list', limit: 10 })).map((r) => r.id), ['d', 'c', 'b'], 'the oldest leaves first');
  assert.equal(await rec.answer({ op: 'get', id: 'a' }), null);
  assert.deepEqual((await rec.answer({ op: 'get', id: 'd' }))?.requestHeaders, ['Authorization', 'Bearer ***']);
  assert.deepEqual(published.map((e) => `${e.phase} ${e.record.id}`), ['request b', 'response a', 'request c', 'request d']);

  const counts = await rec.answer({ op: 'counts' });
  assert.equal(counts.kept, 3);
  assert.equal(counts.requests, 1, 'only ended records are counted');
  assert.deepEqual({ ...counts.byStatusClass }, { '4xx': 1 });

  await rec.answer({ op: 'set', state: { spec: spec(join(dir, 'traffic.log')), on: false } });
  assert.deepEqual(captured.at(-1), null, 'capture is given back when off');
  engine.emit('connection:start', record('e', 5_000));
  assert.equal((await rec.answer({ op: 'list', limit: 10 }))[0].id, 'd', 'nothing is recorded while off; what was kept stays');
  const log = readFileSync(join(dir, 'traffic.log'), 'utf8');
  assert.match(log, /\[REQ\] id=d method=GET/);
  assert.match(log, /Authorization: Bearer \*\*\*/);
  assert.doesNotMatch(log, /secret/);
  await rec.answer({ op: 'clear' });
  assert.deepEqual(await rec.answer({ op: 'list', limit: 10 }), []);
  await rec.close();
});

test('kept records are capped by memory too, whatever history and max_body_log_size allow', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'recorder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { engine, rec } = recorder();
  // No log lines: only what is kept in memory is under test.
  await rec.answer({ op: 'set', state: { spec: spec(join(dir, 'traffic.log'), { history: 100_000, bodyBytes: 1 << 20, logRequests: false, logResponses: false }), on: true } });
  const body = { text: 'x'.repeat(1 << 20), encoding: 'utf8' as const, size: 5 << 20, truncated: true };
  for (let i = 0; i < 100; i++) engine.emit('connection:end', { ...record(`r${i}`, 1_000 + i), status: 200, durationMs: 1, requestBody: body, responseBody: body });
  const counts = await rec.answer({ op: 'counts' });
  assert.equal(counts.requests, 100, 'every record is counted');
  assert.ok(counts.keptBytes <= 64 * 1024 * 1024, `kept ${counts.keptBytes} bytes`);
  assert.ok(counts.kept >= 30 && counts.kept < 100, `kept ${counts.kept} records of 2 MB`);
  assert.equal((await rec.answer({ op: 'list', limit: 1 }))[0].id, 'r99', 'the newest stay');
  await rec.close();
});
