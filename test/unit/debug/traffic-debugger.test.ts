import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { DebugSpec } from '../../../src/config/model.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import type { Engine, EngineEvents } from '../../../src/engine/engine-api.js';
import type { DebugAnswer, DebugRequest, TrafficEvent } from '../../../src/debug/debug-request.js';
import { TrafficDebugger } from '../../../src/debug/traffic-debugger.js';
import { TrafficRecorder } from '../../../src/debug/traffic-recorder.js';
import { debugSpec } from '../../../src/config/normalize.js';

const spec: DebugSpec = {
  enabled: true,
  logRequests: true,
  logResponses: true,
  logHeaders: false,
  bodyBytes: 0,
  output: 'file',
  logFile: '/dev/null',
  maskHeaders: [],
  history: 3,
  filter: { domains: [], methods: [], statusCodes: [] },
  mitm: debugSpec(undefined, '/').mitm,
};

/** Two engine processes, each with its own recorder, behind the engine surface the debugger uses. */
class TwoProcesses extends EventEmitter<EngineEvents> {
  readonly processes = [new EventEmitter<EngineEvents>(), new EventEmitter<EngineEvents>()];
  private readonly recorders = this.processes.map(
    (process) => new TrafficRecorder(process, { capture: () => undefined, publish: (event) => this.emit('traffic', event), warn: () => undefined }),
  );

  async debug<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>[]> {
    return Promise.all(this.recorders.map((recorder) => recorder.answer(request)));
  }
}

const record = (id: string, startedAt: number, host = 'example.com'): ConnectionRecord => ({ id, startedAt, protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, method: 'GET', host, port: 80, path: `/${id}`, bytesIn: 10, bytesOut: 20 });
const ended = (r: ConnectionRecord, status = 200): ConnectionRecord => ({ ...r, status, durationMs: 4 });

test('records of several engine processes are listed in start order, at most history in all', async () => {
  const engine = new TwoProcesses();
  const debug = new TrafficDebugger(engine as unknown as Engine, spec);
  await debug.enable();
  const [a, b] = engine.processes;
  a.emit('connection:start', record('a1', 1_000));
  b.emit('connection:start', record('b1', 1_500));
  a.emit('connection:start', record('a2', 2_000));
  b.emit('connection:start', record('b2', 2_500));
  a.emit('connection:start', record('a3', 3_000));
  assert.deepEqual((await debug.list()).map((r) => r.id), ['a3', 'b2', 'a2'], 'newest first across processes, cut to history');
  assert.deepEqual((await debug.list(2)).map((r) => r.id), ['a3', 'b2']);
  assert.equal((await debug.get('b1'))?.id, 'b1', 'found in the process that has it');
  assert.equal(await debug.get('none'), undefined);
  await debug.clear();
  assert.deepEqual(await debug.list(), []);
  await debug.disable();
});

test('stats add up over the processes; hosts are ranked by their merged counts', async () => {
  const engine = new TwoProcesses();
  const debug = new TrafficDebugger(engine as unknown as Engine, spec);
  await debug.enable();
  const [a, b] = engine.processes;
  // busy.example trails one.example in process a: only the merged counts put it first.
  for (let i = 0; i < 3; i++) a.emit('connection:end', ended(record(`a${i}`, 1_000 + i, 'one.example')));
  for (let i = 0; i < 2; i++) a.emit('connection:end', ended(record(`ab${i}`, 1_100 + i, 'busy.example')));
  for (let i = 0; i < 2; i++) b.emit('connection:end', ended(record(`bb${i}`, 1_200 + i, 'busy.example'), 404));
  b.emit('connection:end', ended(record('b0', 1_300, 'two.example')));
  const stats = await debug.summary();
  assert.equal(stats.enabled, true);
  assert.equal(stats.requests, 8);
  assert.equal(stats.bytesIn, 80);
  assert.equal(stats.averageDurationMs, 4);
  assert.deepEqual({ ...stats.byStatusClass }, { '2xx': 6, '4xx': 2 });
  assert.deepEqual(stats.topHosts, [
    { host: 'busy.example', count: 4 },
    { host: 'one.example', count: 3 },
    { host: 'two.example', count: 1 },
  ]);
  assert.equal(stats.kept, 3, 'six kept in all, but history is 3');
  assert.ok(stats.since !== null && stats.since <= Date.now());
  await debug.disable();
});

test('live events reach listeners; "debug on" holds across a reload that keeps enabled as it was', async () => {
  const engine = new TwoProcesses();
  const debug = new TrafficDebugger(engine as unknown as Engine, { ...spec, enabled: false });
  assert.equal(engine.listenerCount('traffic'), 0);
  const seen: TrafficEvent[] = [];
  const listener = (event: TrafficEvent): void => void seen.push(event);
  debug.on('traffic', listener);
  assert.equal(engine.listenerCount('traffic'), 1, 'the engine is followed only while someone listens');
  await debug.enable();
  engine.processes[1].emit('connection:start', record('x', 1));
  assert.deepEqual(seen.map((e) => `${e.phase} ${e.record.id}`), ['request x']);
  debug.off('traffic', listener);
  assert.equal(engine.listenerCount('traffic'), 0);

  await debug.configure({ ...spec, enabled: false, history: 10 });
  assert.equal(debug.enabled, true, 'the file did not change enabled');
  await debug.configure({ ...spec, enabled: true, history: 10 });
  assert.equal(debug.enabled, true);
  await debug.configure({ ...spec, enabled: false, history: 10 });
  assert.equal(debug.enabled, false, 'the file turned it off');
  engine.processes[0].emit('connection:start', record('y', 2));
  assert.deepEqual((await debug.list()).map((r) => r.id), ['x']);
});
