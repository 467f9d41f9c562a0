import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { ProxyMetrics } from '../../../src/telemetry/proxy-metrics.js';

const metrics = (): ProxyMetrics => new ProxyMetrics(() => new Map(), false, () => null, () => ({ accept: 0, dial: 0 }));

const record = (fields: Partial<ConnectionRecord>): ConnectionRecord => ({ backend: 'direct', method: 'CONNECT', error: undefined, bytesIn: 0, bytesOut: 0, durationMs: 5, udp: undefined, ...fields }) as ConnectionRecord;

/** The scraped values of the per-record counters, as "metric{labels}" → value. */
async function scrape(m: ProxyMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const metric of await m.registry.getMetricsAsJSON()) {
    if (!['proxy_connections_total', 'proxy_connections_errors_total', 'proxy_requests_total', 'proxy_request_bytes_total'].includes(metric.name)) continue;
    for (const { labels, value } of metric.values) out[`${metric.name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}}`] = value;
  }
  return out;
}

test('per-record counters: every finished record counts once by backend, outcome, error, method and bytes, across scrapes', async () => {
  const m = metrics();
  m.observe(record({ bytesIn: 100, bytesOut: 1000 }));
  m.observe(record({ method: 'GET', bytesIn: 10, bytesOut: 20 }));
  m.observe(record({ error: 'idle-timeout' }));
  m.observe(record({ backend: undefined, method: 'BREW', error: 'no-such-word' }));
  m.observe(record({ error: 'client-closed', bytesIn: 1 }));
  assert.deepEqual(await scrape(m), {
    'proxy_connections_total{backend=direct,status=success}': 3,
    'proxy_connections_total{backend=direct,status=error}': 1,
    'proxy_connections_total{backend=none,status=error}': 1,
    'proxy_connections_errors_total{backend=direct,error=idle-timeout}': 1,
    'proxy_connections_errors_total{backend=none,error=other}': 1,
    'proxy_requests_total{method=CONNECT,backend=direct}': 3,
    'proxy_requests_total{method=GET,backend=direct}': 1,
    'proxy_requests_total{method=OTHER,backend=none}': 1,
    'proxy_request_bytes_total{direction=in}': 111,
    'proxy_request_bytes_total{direction=out}': 1020,
  });
  assert.deepEqual(await scrape(m), await scrape(m), 'reading again adds nothing');
  m.observe(record({ bytesOut: 5 }));
  m.observe(record({ error: 'idle-timeout' }));
  const after = await scrape(m);
  assert.equal(after['proxy_connections_total{backend=direct,status=success}'], 4);
  assert.equal(after['proxy_connections_errors_total{backend=direct,error=idle-timeout}'], 2);
  assert.equal(after['proxy_requests_total{method=CONNECT,backend=direct}'], 5);
  assert.equal(after['proxy_request_bytes_total{direction=out}'], 1025);
  assert.equal(after['proxy_request_bytes_total{direction=in}'], 111);
});
