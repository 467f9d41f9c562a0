// HTTPS interception benchmark (`npm run bench:mitm`, also the last part of `npm run bench`):
// 1. leaf minting: time to sign one new host's certificate, in sequence and in a burst;
// 2. intercepted HTTPS request rate over keep-alive connections (curl, 16 in parallel, HTTP/1.1)
//    against the plain CONNECT tunnel of the same run and against mitmproxy (Debian) on the same
//    load, rounds interleaved, medians quoted. The origin is nginx with TLS on loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { makeTlsFiles } from '../test/helpers/tls-files.js';
import { createCa } from '../src/mitm/ca-store.js';
import { LeafMinter } from '../src/mitm/leaf-minter.js';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.MITM_BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.MITM_BENCH_REQUESTS ?? 2000);
const PARALLEL = 16;
const dir = mkdtempSync(join(tmpdir(), 'sp-bench-mitm-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// 1. Leaf minting.
const minter = new LeafMinter(await createCa(join(dir, 'minting')), 10_000);
await minter.mint('warm.example');
const sequential: number[] = [];
for (let i = 0; i < 200; i++) {
  const started = performance.now();
  await minter.mint(`seq${i}.example`);
  sequential.push(performance.now() - started);
}
const burstStarted = performance.now();
await Promise.all(Array.from({ length: 500 }, (_, i) => minter.context(`burst${i}.example`)));
const burstMs = performance.now() - burstStarted;
console.log(`leaf minting (ECDSA P-256, one key per process): ${median(sequential).toFixed(2)} ms median per new host in sequence (p99 ${[...sequential].sort((a, b) => a - b)[197].toFixed(2)} ms); a burst of 500 new hosts ready in ${Math.round(burstMs)} ms (${Math.round((500 / burstMs) * 1000)}/s)`);

// 2. Request rate. The origin: nginx with TLS on a free loopback port.
const tls = makeTlsFiles(dir, ['localhost']);
const originPort = await freePort();
mkdirSync(join(dir, 'nginx'), { recursive: true });
writeFileSync(
  join(dir, 'nginx', 'nginx.conf'),
  `daemon off;\nworker_processes 1;\npid ${join(dir, 'nginx', 'nginx.pid')};\nerror_log ${join(dir, 'nginx', 'error.log')};\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_temp_path ${join(dir, 'nginx')};\n  keepalive_requests 100000;\n  server {\n    listen 127.0.0.1:${originPort} ssl;\n    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};\n    location / { return 200 "${'x'.repeat(100)}"; }\n  }\n}\n`,
);
children.push(spawn('nginx', ['-c', join(dir, 'nginx', 'nginx.conf'), '-p', join(dir, 'nginx')], { stdio: 'ignore' }));

if (!existsSync(join(ROOT, 'dist', 'proxy', 'engine.js'))) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });

/** Starts a built simple-proxy with `debug.mitm` on or off; resolves with its HTTP port and the CA a client must trust. */
async function startOurs(name: string, mitm: boolean): Promise<{ name: string; port: number; ca: string }> {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  const port = await freePort();
  const config = join(at, 'server-config.yaml');
  writeFileSync(
    config,
    `server:\n  http_port: ${port}\n  socks5_port: ${await freePort()}\n  bind_address: "127.0.0.1"\n  log_level: warn\n  workers: 1\naccess_control:\n  trusted_clients: ["127.0.0.0/8"]\n` +
      (mitm ? `debug:\n  mitm:\n    enabled: true\n    upstream_ca_file: ${tls.ca}\n` : ''),
  );
  const env = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(at, 'run'), SIMPLE_PROXY_STATE_DIR: join(at, 'state') };
  children.push(spawn(process.execPath, [join(ROOT, 'bin', 'simple-proxy-server.js'), 'start', '--foreground', '--config', config], { env, stdio: ['ignore', 'inherit', 'inherit'] }));
  await waitUp(port);
  return { name, port, ca: mitm ? join(at, 'state', 'server', 'ca', 'simple-proxy-ca.pem') : tls.ca };
}

/** Starts mitmdump, verifying the origin against its CA; its own CA appears in its confdir on first start. */
async function startMitmproxy(): Promise<{ name: string; port: number; ca: string } | null> {
  if (spawnSync('mitmdump', ['--version']).status !== 0) return null;
  const port = await freePort();
  const conf = join(dir, 'mitmproxy');
  mkdirSync(conf, { recursive: true });
  children.push(spawn('mitmdump', ['-q', '--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${conf}`, '--set', `ssl_verify_upstream_trusted_ca=${tls.ca}`], { stdio: 'ignore' }));
  await waitUp(port);
  return { name: 'mitmproxy', port, ca: join(conf, 'mitmproxy-ca-cert.pem') };
}

async function waitUp(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://127.0.0.1:${port}/`]).status !== 0) {
    if (Date.now() > deadline) throw new Error(`nothing answers on port ${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** REQUESTS GETs over PARALLEL keep-alive connections through the proxy (curl reuses its tunnels); requests per second. */
function rate(target: { port: number; ca: string }): number {
  const urls = join(dir, 'urls.txt');
  writeFileSync(urls, Array.from({ length: REQUESTS }, () => `url = "https://localhost:${originPort}/"\noutput = "/dev/null"\n`).join(''));
  const started = performance.now();
  const run = spawnSync('curl', ['-sS', '--http1.1', '--parallel', '--parallel-max', String(PARALLEL), '--proxy', `http://127.0.0.1:${target.port}`, '--cacert', target.ca, '-w', '%{http_code}\n', '-K', urls], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const ok = run.stdout.split('\n').filter((line) => line === '200').length;
  if (ok !== REQUESTS) throw new Error(`only ${ok} of ${REQUESTS} requests answered 200: ${run.stderr.slice(0, 400)}`);
  return REQUESTS / seconds;
}

await waitUp(originPort).catch(() => undefined);
const targets = [await startOurs('plain CONNECT (simple-proxy)', false), await startOurs('intercepted (simple-proxy)', true)];
const peer = await startMitmproxy();
if (peer) targets.push(peer);
else console.log('mitmproxy (mitmdump) is not installed: compared with the plain tunnel only');
// Warm-up: the CA and leaf are made, pools opened.
for (const target of targets) rate({ ...target });
const results = new Map<string, number[]>(targets.map((t) => [t.name, []]));
for (let round = 0; round < ROUNDS; round++) for (const target of targets) results.get(target.name)!.push(rate(target));
const plain = median(results.get(targets[0].name)!);
console.log(`\nHTTPS keep-alive request rate, ${REQUESTS} GETs of 100 bytes over ${PARALLEL} connections (curl --parallel, HTTP/1.1), median of ${ROUNDS} interleaved rounds:`);
for (const target of targets) {
  const value = median(results.get(target.name)!);
  console.log(`  ${target.name.padEnd(30)} ${Math.round(value).toString().padStart(6)} req/s   ${(value / plain).toFixed(2)}x plain CONNECT`);
  console.log(`BENCHJSON ${JSON.stringify({ metric: 'mitm_https_rps', target: target.name, unit: 'req/s', median: Math.round(value), runs: results.get(target.name)!.map(Math.round), ratio_to_plain_connect: Number((value / plain).toFixed(3)) })}`);
}
console.log(`BENCHJSON ${JSON.stringify({ metric: 'mitm_leaf_ms', target: 'simple-proxy', unit: 'ms', median: Number(median(sequential).toFixed(3)) })}`);
// The proxies, nginx and mitmdump it started keep the event loop alive: exiting runs the handler that stops them.
process.exit(0);
