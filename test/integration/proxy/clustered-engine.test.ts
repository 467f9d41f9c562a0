import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { snapshot } from './engine-fixture.js';

function get(proxyPort: number, url: string, agent = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent: agent ? undefined : false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('clustered engine: workers share the listeners, records reach the primary, reload and stop fan out', { timeout: 60_000 }, async (t) => {
  const origin = createServer((req, res) => res.end(`pid-independent ${req.url}`));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => origin.close());
  const originPort = (origin.address() as { port: number }).port;

  const engine = new ClusteredEngine(snapshot(), 2);
  const records: ConnectionRecord[] = [];
  engine.on('connection:end', (r) => records.push(r));
  const bound = await engine.start();
  let stopped = false;
  t.after(async () => {
    if (!stopped) await engine.stop({ drainMs: 0 });
  });
  const http = bound.find((l) => l.kind === 'http')!;
  assert.ok(http.port > 0);

  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => get(http.port, `http://127.0.0.1:${originPort}/r${i}`)));
  assert.ok(answers.every((a, i) => a.status === 200 && a.body === `pid-independent /r${i}`));
  // Workers send records in batches: wait for them, bounded.
  const deadline = Date.now() + 10_000;
  while (records.filter((r) => r.protocol === 'http').length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(records.filter((r) => r.protocol === 'http').length, 40, 'every record reached the primary');
  const stats = await engine.stats();
  assert.ok(stats.connectionsTotal >= 40);

  // A reload to a snapshot without a catch-all rule changes routing in every worker.
  const report = await engine.reload(snapshot(undefined, [{ name: 'only-example', domains: ['example.com'], backends: [{ name: 'direct', weight: 1 }] }], { version: 'v2' }));
  assert.equal(report.version, 'v2');
  const after = await Promise.all(Array.from({ length: 10 }, () => get(http.port, `http://127.0.0.1:${originPort}/x`)));
  assert.ok(after.every((a) => a.status === 403), 'no worker still routes with the old rules');
  assert.equal(engine.explainRoute('example.com').rule?.name, 'only-example');

  const result = await engine.stop({ drainMs: 500 });
  stopped = true;
  assert.equal(result.forced, 0);
  await assert.rejects(get(http.port, `http://127.0.0.1:${originPort}/gone`));
});
