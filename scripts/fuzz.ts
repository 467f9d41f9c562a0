// `npm run fuzz -- [CASES (default 20000)] [SEED (default: time)]`: the seeded mutation fuzzers of
// the suite's short runs (test/integration/proxy/fuzz-short.test.ts for HTTP and SOCKS5 openings,
// test/integration/daemon/control-fuzz.test.ts for the control API), long: openings against one
// engine on loopback, and one control request for every ten of them against a daemon of its own.
// Prints its figures and fails if the proxy stops serving or a control request is answered 5xx;
// such requests are added to the corpus the suite replays (test/integration/daemon/fuzz-corpus.json),
// and a failed round is rerun with its seed.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { fuzz, fuzzControl, send } from '../test/helpers/fuzz.js';
import { snapshot, startEngine } from '../test/integration/proxy/engine-fixture.js';
import { curl } from '../test/integration/policy/policy-fixture.js';
import { startDaemonProcess } from '../test/integration/daemon/daemon-process.js';

const CORPUS = new URL('../test/integration/daemon/fuzz-corpus.json', import.meta.url);
const cases = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
const site = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
await once(site, 'listening');
const proxy = await startEngine(snapshot());
const daemon = await startDaemonProcess();
const started = Date.now();
let sent = 0;
let controlSent = 0;
let failed = false;
for (let round = 0; sent < cases && !failed; round++) {
  const count = Math.min(1000, cases - sent);
  sent += await fuzz({ http: proxy.http.port, socks5: proxy.socks.port }, seed + round, count, 32, 1000);
  const control = await fuzzControl(daemon.socket, seed + round, Math.ceil(count / 10), 8, 2000);
  controlSent += control.sent;
  if (control.serverErrors.length > 0) save(control.serverErrors);
  const answer = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://127.0.0.1:${(site.address() as { port: number }).port}/`]);
  const status = (await send(daemon.socket, Buffer.from('GET /api/status HTTP/1.1\r\nHost: control\r\n\r\n'))).toString('latin1');
  const daemonUp = daemon.alive() && status.startsWith('HTTP/1.1 200');
  failed = answer.stdout !== '200' || !daemonUp || control.serverErrors.length > 0;
  const rate = (((sent + controlSent) / (Date.now() - started)) * 1000).toFixed(0);
  console.log(
    `fuzz: ${sent} openings and ${controlSent} control requests (seed ${seed}, round ${round}), ${rate} cases/s, ` +
      `proxy ${answer.stdout === '200' ? 'serving' : `FAILED (${answer.stdout})`}, daemon ${daemonUp ? 'answering' : 'FAILED'}, ${control.serverErrors.length} control requests answered 5xx`,
  );
}
await proxy.stop();
await daemon.stop();
site.close();
process.exit(failed ? 1 : 0);

/** Adds control requests that were answered 5xx to the corpus: once fixed, each must get a 4xx. */
function save(inputs: string[]): void {
  const corpus = JSON.parse(readFileSync(CORPUS, 'utf8')) as { target: string; input: string; answer: string; why: string }[];
  const known = new Set(corpus.map((c) => c.input));
  for (const input of inputs.map((i) => JSON.parse(i) as string)) {
    if (!known.has(input)) corpus.push({ target: 'control', input, answer: '^HTTP/1\\.1 4\\d\\d ', why: `answered 5xx in npm run fuzz (seed ${seed})` });
  }
  writeFileSync(CORPUS, `${JSON.stringify(corpus, null, 1)}\n`);
  console.log(`fuzz: ${inputs.length} control requests answered 5xx added to ${CORPUS.pathname}`);
}
