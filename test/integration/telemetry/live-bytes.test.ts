import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectTunnel, trickleOrigin } from '../../e2e/cli-harness.js';
import { until } from '../health/pool-fixture.js';
import { METRICS_ON, scrape } from '../policy/policy-fixture.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';

test('proxy_request_bytes_total counts an open tunnel as its bytes flow, and its bytes once in all when it ends', { timeout: 60_000 }, async (t) => {
  const origin = await trickleOrigin();
  t.after(() => origin.close());
  const proxy = await startEngine(snapshot(undefined, undefined, { metrics: METRICS_ON }));
  t.after(() => proxy.stop());
  const tunnel = await connectTunnel(proxy.http.port, origin.port);
  t.after(() => tunnel.socket.destroy());
  tunnel.socket.on('data', () => undefined);
  tunnel.socket.write(`GET /big HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
  const out = async (): Promise<number> => (await scrape(proxy.engine)).get('proxy_request_bytes_total{direction="out"}') ?? 0;
  let first = 0;
  await until(async () => (first = await out()) > 16_384, 15_000, 'the open tunnel counted');
  await until(async () => (await out()) > first, 15_000, 'the counter grows while the tunnel is open');
  assert.equal(proxy.records.length, 0, 'the tunnel has not ended');
  tunnel.socket.destroy();
  await until(() => proxy.records.length === 1, 15_000, 'the tunnel ends');
  const final = proxy.records[0].bytesOut;
  assert.equal(await out(), final, 'its bytes are counted once: what it carried in all');
});
