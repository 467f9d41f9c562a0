import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from '../../helpers/fuzz.js';
import { until } from '../health/pool-fixture.js';
import { curl, origin } from '../policy/policy-fixture.js';
import { snapshot, startEngine } from './engine-fixture.js';

const SEED = Number(process.env.FUZZ_SEED ?? 18);

test(`a short seeded fuzz run (seed ${SEED}): 120 malformed HTTP and SOCKS5 openings, and the proxy still serves`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const warnings: string[] = [];
  proxy.engine.on('warning', (w) => warnings.push(w));
  const sent = await fuzz({ http: proxy.http.port, socks5: proxy.socks.port }, SEED, 120, 32, 500);
  console.log(`fuzz: ${sent} cases, seed ${SEED}`);
  const answer = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.equal(answer.stdout, '200');
  // Every case's client has gone: the proxy lets go of each connection too.
  await until(async () => (await proxy.engine.stats()).connectionsActive === 0, 15_000, 'no connection left open');
});
