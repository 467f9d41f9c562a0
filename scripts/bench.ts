// `npm run bench`: builds, starts simple-proxy fresh on free loopback ports (embedded-default
// routing, everything direct), and runs the shared harness against it and against direct in one
// run; `--peers squid,dante` adds reference peers to the same run; `--variants debug,limits` adds
// more simple-proxy instances with the traffic debugger on / with limits configured but not hit,
// to compare with the plain one in the same run. Other arguments go to run.sh (for example
// `npm run bench -- --only a,d --runs 1`); `--baseline DIR` adds the simple-proxy of another
// built checkout (for example the commit before a change) as `simple-proxy@base`, so before and
// after are measured in one interleaved run. Then the routing micro-benchmark, the HTTPS
// interception benchmark (leaf minting; intercepted vs plain CONNECT vs mitmproxy) and the UDP
// relay benchmark (scripts/bench-udp.ts: direct, simple-proxy and danted).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/helpers/ports.js';

const ROOT = resolve(import.meta.dirname, '..');
const BENCH = resolve(ROOT, '..', 'shared', 'bench');
const args = process.argv.slice(2);
const peersAt = args.indexOf('--peers');
const peers = peersAt === -1 ? [] : args.splice(peersAt, 2)[1].split(',').filter(Boolean);
const variantsAt = args.indexOf('--variants');
const variants = variantsAt === -1 ? [] : args.splice(variantsAt, 2)[1].split(',').filter(Boolean);
const workersAt = args.indexOf('--workers');
const workers = workersAt === -1 ? 0 : Number(args.splice(workersAt, 2)[1]);
const baselineAt = args.indexOf('--baseline');
const baseline = baselineAt === -1 ? undefined : resolve(args.splice(baselineAt, 2)[1]);
if (baseline !== undefined && !existsSync(join(baseline, 'dist'))) throw new Error(`--baseline ${baseline}: no built checkout there (run npm ci && npm run build in it)`);

function must(command: string, argv: string[], options: Parameters<typeof spawnSync>[2] = {}): void {
  const result = spawnSync(command, argv, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${argv.join(' ')} failed (${result.status})`);
}


if (!existsSync(join(BENCH, 'run.sh'))) throw new Error(`no benchmark harness at ${BENCH}`);
// Idempotent: installs only what is missing (root), so a fresh machine can run the benchmark.
must(join(BENCH, 'setup.sh'), peers.length ? ['--peers'] : []);
must('npm', ['run', 'build'], { cwd: ROOT });

const dir = mkdtempSync(join(tmpdir(), 'sp-bench-'));

/** Extra config for each variant: the same proxy with one feature switched on. */
const VARIANTS: Record<string, (dir: string) => string> = {
  // The debugger as a person turns it on: request and response lines to a file.
  debug: (at) => `debug:\n  enabled: true\n  output: file\n  log_file: ${join(at, 'traffic.log')}\n`,
  // Every request-rate, connection and address limit configured, none of them reached.
  limits: () =>
    'rate_limiting:\n  enabled: true\n  global: { requests_per_second: 10000000, burst: 10000000 }\n  per_ip: { requests_per_second: 10000000, burst: 10000000 }\n' +
    'access_control:\n  whitelist: ["127.0.0.0/8", "::1/128"]\n  blacklist: ["192.0.2.0/24"]\n  trusted_clients: ["127.0.0.0/8"]\n',
};
for (const name of variants) if (!(name in VARIANTS)) throw new Error(`unknown variant "${name}" (known: ${Object.keys(VARIANTS).join(', ')})`);

/** The benchmark's origin is on loopback, which a server does not trust unless told. */
const TRUSTED = 'access_control:\n  trusted_clients: ["127.0.0.0/8"]\n';

const processes: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
});
process.on('SIGINT', () => process.exit(130));

/** Starts the simple-proxy of checkout `root` on free ports with the bench config plus `extra`; resolves once it answers. */
async function startProxy(name: string, extra: string, root = ROOT): Promise<{ name: string; httpPort: number; socksPort: number; pid: number }> {
  const at = join(dir, name);
  const [httpPort, socksPort] = [await freePort(), await freePort()];
  const config = join(at, 'server-config.yaml');
  mkdirSync(at, { recursive: true });
  writeFileSync(
    config,
    `server:\n  http_port: ${httpPort}\n  socks5_port: ${socksPort}\n  bind_address: "127.0.0.1"\n  log_level: warn\n  workers: ${workers}\nnetwork:\n  limits:\n    max_connections: 20000\n    max_connections_per_ip: ${extra.includes('rate_limiting') ? 100000 : 0}\n    max_connections_per_backend: ${extra.includes('rate_limiting') ? 100000 : 0}\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n${extra.includes('access_control') ? '' : TRUSTED}${extra}`,
  );
  const env = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(at, 'run'), SIMPLE_PROXY_STATE_DIR: join(at, 'state') };
  const child = spawn(process.execPath, [join(root, 'bin', 'simple-proxy-server.js'), 'start', '--foreground', '--config', config], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  processes.push(child);
  const deadline = Date.now() + 30_000;
  while (spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://127.0.0.1:${httpPort}/`]).status !== 0) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { name, httpPort, socksPort, pid: child.pid! };
}

const proxies = [await startProxy('simple-proxy', '')];
if (baseline !== undefined) proxies.push(await startProxy('simple-proxy@base', '', baseline));
for (const variant of variants) proxies.push(await startProxy(`simple-proxy+${variant}`, VARIANTS[variant](join(dir, `simple-proxy+${variant}`))));
const targets = proxies.flatMap((p) => ['--target', `name=${p.name} http=127.0.0.1:${p.httpPort} socks5=127.0.0.1:${p.socksPort} pid=${p.pid}`]);
if (peers.length > 0) {
  const started = spawnSync(join(BENCH, 'peers', 'peers.sh'), ['start', ...peers], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`peers.sh failed: ${started.stderr}`);
  process.on('exit', () => spawnSync(join(BENCH, 'peers', 'peers.sh'), ['stop', 'all'], { stdio: 'inherit' }));
  for (const spec of started.stdout.match(/name=\S+(?: \S+=\S+)*/g) ?? []) targets.push('--target', spec);
}
for (const p of proxies) console.log(`benchmarking ${p.name} (pid ${p.pid}, workers ${workers === 0 ? 'one per core' : workers}) on http=${p.httpPort} socks5=${p.socksPort}`);
const output = await runHarness([...targets, ...args]);
for (const child of processes) child.kill('SIGTERM');
const failed = integrityVerdict(output, args.includes('--no-integrity'));
must(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-routing.ts')], { cwd: ROOT });
must(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-mitm.ts')], { cwd: ROOT });
must(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-udp.ts')], { cwd: ROOT });
if (failed.length > 0) process.exit(1);

/** Runs run.sh, passing its output through, and resolves with what it printed on stdout. */
function runHarness(argv: string[]): Promise<string> {
  const child = spawn(join(BENCH, 'run.sh'), argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    text += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`run.sh failed (${code})`))));
  });
}

/**
 * The closing integrity table: for each target, how many of the 16 downloads of random bytes
 * arrived intact per path. A target with a corrupted path fails, and its throughput figures are
 * withheld (they measured bytes that were not delivered as sent). Returns the failed targets.
 */
function integrityVerdict(output: string, skipped: boolean): string[] {
  const lines = [...output.matchAll(/^BENCHJSON (.*)$/gm)].map((m) => JSON.parse(m[1]) as { metric: string; target: string; median?: number; value?: number });
  const intact = lines.filter((l) => l.metric.startsWith('i_'));
  const throughput = lines.filter((l) => /^[bc]\d/.test(l.metric));
  const names = [...new Set(intact.map((l) => l.target))];
  console.log('\nintegrity (downloads of 64 MiB random bytes, sha256 checked, of 16):');
  if (skipped) console.log('  skipped (--no-integrity): no throughput figure below is verified');
  const failed: string[] = [];
  for (const name of names) {
    const paths = intact.filter((l) => l.target === name).map((l) => ({ path: l.metric.replace(/^i_|_intact$/g, ''), ok: l.median ?? l.value ?? 0 }));
    const bad = paths.filter((p) => p.ok < 16);
    if (bad.length > 0) failed.push(name);
    console.log(`  ${name}: ${paths.map((p) => `${p.path} ${p.ok}/16`).join(', ')}${bad.length > 0 ? '  FAILED' : ''}`);
  }
  for (const name of failed) {
    const withheld = throughput.filter((l) => l.target === name).map((l) => l.metric);
    console.log(`FAILED ${name}: bytes arrived corrupted; its throughput figures (${withheld.join(', ') || 'none'}) do not count`);
  }
  return failed;
}
