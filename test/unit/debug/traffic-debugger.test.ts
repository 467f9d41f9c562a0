import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { DebugSpec } from '../../../src/config/model.js';
import type { ConnectionRecord } from '../../../src/proxy/connection-record.js';
import type { Engine } from '../../../src/proxy/engine.js';
import { TrafficDebugger } from '../../../src/debug/traffic-debugger.js';

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
};

/** The record events of an engine: the debugger needs nothing else of it. */
class RecordSource extends EventEmitter {
  async setCapture(): Promise<void> {}
}

const record = (id: string, startedAt: number): ConnectionRecord => ({ id, startedAt, protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, method: 'GET', host: 'example.com', port: 80, path: `/${id}`, bytesIn: 0, bytesOut: 0 });

test('records reported out of order by different engine processes are kept in start order, bounded by history', async () => {
  const source = new RecordSource();
  const debug = new TrafficDebugger(source as unknown as Engine, spec, () => undefined);
  await debug.enable();
  // Process A reports its record late, after process B reported a request that began later.
  source.emit('connection:start', record('b', 2_000));
  source.emit('connection:start', record('a', 1_000));
  source.emit('connection:end', { ...record('a', 1_000), status: 200, durationMs: 5 });
  source.emit('connection:start', record('c', 3_000));
  assert.deepEqual(debug.list().map((r) => r.id), ['c', 'b', 'a'], 'newest first');
  source.emit('connection:start', record('d', 4_000));
  assert.deepEqual(debug.list().map((r) => r.id), ['d', 'c', 'b'], 'the oldest leaves first');
  assert.equal(debug.get('a'), undefined);
  await debug.close();
});
