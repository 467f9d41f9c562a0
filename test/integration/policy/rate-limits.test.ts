import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { get } from '../health/pool-fixture.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { snapshot, startEngine, type RunningEngine } from '../proxy/engine-fixture.js';
import { curl, exchange, METRICS_ON, origin, scrape, socksConnect } from './policy-fixture.js';

const limited = (raw: Record<string, unknown>) => snapshot(undefined, undefined, { raw, metrics: METRICS_ON });

test('per-IP rate limit: a burst beyond it gets 429 + Retry-After (HTTP and CONNECT), SOCKS5 reply 0x02, each hit reported', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  // 0.2 requests/s: no token comes back during the test.
  const proxy = await startEngine(limited({ rate_limiting: { enabled: true, per_ip: { requests_per_second: 0.2, burst: 3 } } }));
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const url = `http://127.0.0.1:${site.port}/`;

  const codes: string[] = [];
  for (let i = 0; i < 3; i++) codes.push((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.http.port}`, url])).stdout);
  assert.deepEqual(codes, ['200', '200', '200'], 'the burst passes');

  const refused = await curl(['-i', '-x', `http://127.0.0.1:${proxy.http.port}`, url]);
  assert.match(refused.stdout, /^HTTP\/1\.1 429 Too Many Requests/);
  // A token takes 5 s to refill; part of one has come back since the burst began.
  const retryAfter = Number(/\r\nretry-after: (\d+)\r\n/i.exec(refused.stdout)?.[1]);
  assert.ok(retryAfter >= 3 && retryAfter <= 5, `Retry-After: ${retryAfter}`);
  assert.match(refused.stdout, /rate_limiting\.per_ip exceeded/);

  const tunnel = await exchange(proxy.http.port, '127.0.0.1', `CONNECT 127.0.0.1:${site.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(tunnel.reply.toString('latin1'), /^HTTP\/1\.1 429 Too Many Requests\r\n[^]*Retry-After: \d+\r\n/);

  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksConnect('127.0.0.1', site.port));
  assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x02], 'SOCKS5: method accepted, then "not allowed by ruleset"');

  assert.deepEqual(hits.map((h) => [h.scope, h.client, h.protocol]), [
    ['ip', '127.0.0.1', 'http'],
    ['ip', '127.0.0.1', 'connect'],
    ['ip', '127.0.0.1', 'socks5'],
  ]);
  assert.ok(hits.every((h) => h.target === `127.0.0.1:${site.port}` && /per_ip/.test(h.reason)));
  const deadline = Date.now() + 3000;
  while (proxy.records.filter((r) => r.error === 'rate-limited').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const errors = proxy.records.filter((r) => r.error === 'rate-limited').map((r) => r.status);
  assert.deepEqual(errors.sort(), [2, 429, 429]);
  const metrics = await scrape(proxy.engine);
  assert.equal(metrics.get('proxy_rate_limit_exceeded_total{by="ip"}'), 3, 'one count per refused request, whatever the protocol');
  assert.equal(metrics.get('proxy_rate_limit_exceeded_total{by="global"}'), undefined);
});

test('global limit counts every client together; rate_limiting.enabled: false turns all of it off', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const proxy = await startEngine(limited({ rate_limiting: { enabled: true, global: { requests_per_second: 0.2, burst: 2 } } }));
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const url = `http://127.0.0.1:${site.port}/`;
  const get = async (from: string): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '--interface', from, '-x', `http://127.0.0.1:${proxy.http.port}`, url])).stdout;
  assert.deepEqual([await get('127.0.0.1'), await get('127.0.0.2'), await get('127.0.0.3')], ['200', '200', '429']);
  assert.deepEqual(hits.map((h) => [h.scope, h.client]), [['global', '127.0.0.3']]);
  assert.equal(await get('127.0.0.4'), '429');
  assert.equal((await scrape(proxy.engine)).get('proxy_rate_limit_exceeded_total{by="global"}'), 2);

  await proxy.engine.reload(limited({ rate_limiting: { enabled: false, global: { requests_per_second: 0.2, burst: 2 } } }));
  assert.equal(await get('127.0.0.3'), '200', 'switched off by a reload');
});

test('clustered engine: refusals in a worker reach the primary as limit:hit events', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const engine = new ClusteredEngine(limited({ rate_limiting: { enabled: true, per_ip: { requests_per_second: 0.2, burst: 1 } } }), 1);
  const hits: LimitHit[] = [];
  engine.on('limit:hit', (hit) => hits.push(hit));
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const http = bound.find((l) => l.kind === 'http')!;
  const url = `http://127.0.0.1:${site.port}/`;
  const codes: string[] = [];
  for (let i = 0; i < 2; i++) codes.push((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${http.port}`, url])).stdout);
  assert.deepEqual(codes, ['200', '429']);
  const deadline = Date.now() + 5000;
  while (hits.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(hits.map((h) => [h.scope, h.client, h.protocol]), [['ip', '127.0.0.1', 'http']]);
});

test('per-IP rate limit counts requests, not connections: requests on one keep-alive connection each take a token', { timeout: 30_000 }, async (t) => {
  const { proxy, status } = await keepAliveClient(t, limited({ rate_limiting: { enabled: true, per_ip: { requests_per_second: 0.2, burst: 3 } } }));
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push(await status());
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  assert.equal(new Set(proxy.records.map((r) => r.clientPort)).size, 1, 'all on one connection');
  assert.equal((await scrape(proxy.engine)).get('proxy_rate_limit_exceeded_total{by="ip"}'), 2);
});

test('a reload that changes the request-rate limits holds for the next request on an open keep-alive connection', { timeout: 30_000 }, async (t) => {
  const { proxy, status } = await keepAliveClient(t, limited({ rate_limiting: { enabled: true, global: { requests_per_second: 1000, burst: 1000 } } }));
  assert.deepEqual([await status(), await status()], [200, 200], 'no per_ip limit yet');
  await proxy.engine.reload(limited({ rate_limiting: { enabled: true, global: { requests_per_second: 1000, burst: 1000 }, per_ip: { requests_per_second: 0.2, burst: 1 } } }));
  assert.deepEqual([await status(), await status()], [200, 429], 'per_ip added by the reload holds on the open connection');
  await proxy.engine.reload(limited({ rate_limiting: { enabled: true, global: { requests_per_second: 1000, burst: 1000 }, per_ip: { requests_per_second: 0.2, burst: 3 } } }));
  assert.equal(await status(), 200, 'a bigger burst applies at once');
  await proxy.engine.reload(limited({ rate_limiting: { enabled: false } }));
  assert.deepEqual([await status(), await status(), await status()], [200, 200, 200], 'switched off by a reload');
  assert.equal(new Set(proxy.records.map((r) => r.clientPort)).size, 1, 'all on one connection');
});

/** An origin, an engine on `config` in front of it, and `status()`: one request on a single keep-alive connection, its status. */
async function keepAliveClient(t: TestContext, config: Parameters<typeof startEngine>[0]): Promise<{ proxy: RunningEngine; status: () => Promise<number> }> {
  const site = await origin();
  t.after(() => site.server.close());
  const proxy = await startEngine(config);
  t.after(() => proxy.stop());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  let n = 0;
  return { proxy, status: async () => (await get(proxy.http.port, `http://127.0.0.1:${site.port}/k${n++}`, { agent })).status };
}
