import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { curl, origin } from './policy-fixture.js';
import { hasRedis, startRedis } from '../../helpers/redis.js';

test('two engines sharing one redis-server hold one global limit; without Redis they keep serving on local limits and say so in the log and the metrics', { skip: hasRedis ? false : 'redis-server is not installed (scripts/setup-system.sh installs it)', timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const site = await origin();
  t.after(() => site.server.close());
  const raw = {
    rate_limiting: { enabled: true, global: { requests_per_second: 0.1, burst: 4 } },
    state: { store: 'redis', redis: { url: `redis://127.0.0.1:${redis.port}/0`, key_prefix: `sp-test-${process.pid}` } },
  };
  const metrics = { endpoint: '/metrics', host: '127.0.0.1' };
  const engines = [await startEngine(snapshot(undefined, undefined, { raw, metrics })), await startEngine(snapshot(undefined, undefined, { raw, metrics }))];
  const sharedUp = async (i: number): Promise<number[]> =>
    (await engines[i].engine.metricsJson())[0].find((m) => m.name === 'proxy_shared_state_up')!.values.map((v) => v.value);
  const warnings: string[] = [];
  for (const e of engines) {
    t.after(() => e.stop());
    e.engine.on('warning', (w) => warnings.push(w));
  }
  const get = async (i: number): Promise<string> =>
    (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${engines[i % 2].http.port}`, `http://127.0.0.1:${site.port}/`])).stdout;

  // Each engine opens its store on first use and serves on local limits until Redis is ready.
  assert.deepEqual([await get(0), await get(1)], ['200', '200']);
  const deadline = Date.now() + 5000;
  while (warnings.filter((w) => /shared through redis/.test(w)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(warnings.filter((w) => /shared through redis/.test(w)).length, 2, warnings.join('\n'));
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
