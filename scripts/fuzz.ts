// `npm run fuzz -- [CASES (default 20000)] [SEED (default: time)]`: the seeded mutation fuzzer of
// the suite's short run (test/integration/proxy/fuzz-short.test.ts), long, against one engine on
// loopback. Prints its figures and fails if the proxy stops serving; rerun a failure with its seed.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { fuzz } from '../test/helpers/fuzz.js';
import { snapshot, startEngine } from '../test/integration/proxy/engine-fixture.js';
import { curl } from '../test/integration/policy/policy-fixture.js';

const cases = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
const site = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
await once(site, 'listening');
const proxy = await startEngine(snapshot());
const started = Date.now();
let sent = 0;
let failed = false;
for (let round = 0; sent < cases && !failed; round++) {
  sent += await fuzz({ http: proxy.http.port, socks5: proxy.socks.port }, seed + round, Math.min(1000, cases - sent), 32, 1000);
  const answer = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://127.0.0.1:${(site.address() as { port: number }).port}/`]);
  failed = answer.stdout !== '200';
  console.log(`fuzz: ${sent} cases (seed ${seed}, round ${round}), ${((sent / (Date.now() - started)) * 1000).toFixed(0)} cases/s, proxy ${failed ? `FAILED (${answer.stdout})` : 'serving'}`);
}
await proxy.stop();
site.close();
process.exit(failed ? 1 : 0);
