import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { snapshot, startEngine, type RunningEngine } from '../proxy/engine-fixture.js';
import { curl, METRICS_ON, origin } from './policy-fixture.js';
import { hasRedis, startRedis, type RedisServer } from '../../helpers/redis.js';

const skip = hasRedis ? false : 'redis-server is not installed (scripts/setup-system.sh installs it)';

/**
 * A redis-server and two engines keeping these rate limits in it, each of which has served one
 * request from 127.0.0.1 (on local limits: the store opens on first use) and said it now shares.
 */
async function twoEngines(t: TestContext, rateLimiting: Record<string, unknown>): Promise<{ redis: RedisServer; engines: RunningEngine[]; warnings: string[]; get(i: number, from?: string): Promise<string> }> {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const site = await origin();
  t.after(() => site.server.close());
  const raw = { rate_limiting: { enabled: true, ...rateLimiting }, state: { store: 'redis', redis: { url: `redis://127.0.0.1:${redis.port}/0`, key_prefix: `sp-test-${process.pid}` } } };
  const engines = [await startEngine(snapshot(undefined, undefined, { raw, metrics: METRICS_ON })), await startEngine(snapshot(undefined, undefined, { raw, metrics: METRICS_ON }))];
  const warnings: string[] = [];
  for (const e of engines) {
    t.after(() => e.stop());
    e.engine.on('warning', (w) => warnings.push(w));
  }
  const get = async (i: number, from = '127.0.0.1'): Promise<string> =>
    (await curl(['-o', '/dev/null', '-w', '%{http_code}', '--interface', from, '-x', `http://127.0.0.1:${engines[i % 2].http.port}`, `http://127.0.0.1:${site.port}/`])).stdout;
  assert.deepEqual([await get(0), await get(1)], ['200', '200']);
  const deadline = Date.now() + 5000;
  while (warnings.filter((w) => /shared through redis/.test(w)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(warnings.filter((w) => /shared through redis/.test(w)).length, 2, warnings.join('\n'));
  return { redis, engines, warnings, get };
}

test('two engines sharing one redis-server hold one global limit; without Redis they keep serving on local limits and say so in the log and the metrics', { skip, timeout: 60_000 }, async (t) => {
  const { redis, engines, warnings, get } = await twoEngines(t, { global: { requests_per_second: 0.1, burst: 4 } });
  const sharedUp = async (i: number): Promise<number[]> =>
    (await engines[i].engine.metricsJson())[0].find((m) => m.name === 'proxy_shared_state_up')!.values.map((v) => v.value);
  assert.deepEqual([await sharedUp(0), await sharedUp(1)], [[1], [1]], 'proxy_shared_state_up{store="redis"} 1');
  const codes: string[] = [];
  for (let i = 0; i < 8; i++) codes.push(await get(i));
  const passed = codes.filter((c) => c === '200').length;
  // One bucket of 4 for both engines (a tenth of a token a second may come back during the run).
  assert.ok(passed === 4 || passed === 5, `passed ${passed} of 8: ${codes.join(',')}`);
  assert.deepEqual(new Set(codes.filter((c) => c !== '200')), new Set(['429']));
  assert.ok(codes.slice(-3).every((c) => c === '429'), 'both engines refuse once the shared bucket is empty');

  await redis.stop();
  const after = [await get(0), await get(1)];
  assert.deepEqual(after, ['200', '200'], 'still serving, on local limits');
  const until = Date.now() + 5000;
  while (!warnings.some((w) => /local to this process/.test(w)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.ok(warnings.some((w) => /redis .*rate limits are local to this process/.test(w)), warnings.join('\n'));
  const down = Date.now() + 5000;
  while ((await sharedUp(0))[0] !== 0 && Date.now() < down) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual([await sharedUp(0), await sharedUp(1)], [[0], [0]], 'the fallback shows in the metrics');
});

test('two engines sharing one redis-server hold one per-IP limit: each client address has one bucket across both', { skip, timeout: 60_000 }, async (t) => {
  const { get } = await twoEngines(t, { per_ip: { requests_per_second: 0.1, burst: 3 } });
  const codes: string[] = [];
  for (let i = 0; i < 6; i++) codes.push(await get(i, '127.0.0.2'));
  // Three in the shared bucket of 127.0.0.2 (separate buckets would pass all six).
  assert.deepEqual(codes, ['200', '200', '200', '429', '429', '429']);
  assert.deepEqual([await get(0, '127.0.0.3'), await get(1, '127.0.0.3')], ['200', '200'], 'another address has a bucket of its own');
});
