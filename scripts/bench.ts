// `npm run bench`: builds, starts simple-proxy fresh on free loopback ports (embedded-default
// routing, everything direct), and runs the shared harness against it and against direct in one
// run; `--peers squid,dante` adds reference peers to the same run. Other arguments go to run.sh
// (for example `npm run bench -- --only a,d --runs 1`). Then the routing micro-benchmark.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BENCH = resolve(ROOT, '..', 'shared', 'bench');
const args = process.argv.slice(2);
const peersAt = args.indexOf('--peers');
const peers = peersAt === -1 ? [] : args.splice(peersAt, 2)[1].split(',').filter(Boolean);
const workersAt = args.indexOf('--workers');
const workers = workersAt === -1 ? 0 : Number(args.splice(workersAt, 2)[1]);

function must(command: string, argv: string[], options: Parameters<typeof spawnSync>[2] = {}): void {
  const result = spawnSync(command, argv, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${argv.join(' ')} failed (${result.status})`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

if (!existsSync(join(BENCH, 'run.sh'))) throw new Error(`no benchmark harness at ${BENCH}`);
// Idempotent: installs only what is missing (root), so a fresh machine can run the benchmark.
must(join(BENCH, 'setup.sh'), peers.length ? ['--peers'] : []);
must('npm', ['run', 'build'], { cwd: ROOT });

const dir = mkdtempSync(join(tmpdir(), 'sp-bench-'));
const [httpPort, socksPort] = [await freePort(), await freePort()];
const config = join(dir, 'server-config.yaml');
writeFileSync(
  config,
  `server:\n  http_port: ${httpPort}\n  socks5_port: ${socksPort}\n  bind_address: "127.0.0.1"\n  log_level: warn\n  workers: ${workers}\nnetwork:\n  limits:\n    max_connections: 20000\n    max_connections_per_ip: 0\n    max_connections_per_backend: 0\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n`,
);
const env = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(dir, 'run'), SIMPLE_PROXY_STATE_DIR: join(dir, 'state') };
const proxy: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'simple-proxy-server.js'), 'start', '--foreground', '--config', config], { env, stdio: ['ignore', 'inherit', 'inherit'] });
const stopProxy = (): void => {
  if (proxy.exitCode === null) proxy.kill('SIGTERM');
};
process.on('exit', stopProxy);
process.on('SIGINT', () => process.exit(130));

const deadline = Date.now() + 30_000;
while (spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://127.0.0.1:${httpPort}/`]).status !== 0) {
  if (Date.now() > deadline || proxy.exitCode !== null) throw new Error('simple-proxy did not come up');
  await new Promise((r) => setTimeout(r, 200));
}

const targets = ['--target', `name=simple-proxy http=127.0.0.1:${httpPort} socks5=127.0.0.1:${socksPort} pid=${proxy.pid}`];
if (peers.length > 0) {
  const started = spawnSync(join(BENCH, 'peers', 'peers.sh'), ['start', ...peers], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`peers.sh failed: ${started.stderr}`);
  process.on('exit', () => spawnSync(join(BENCH, 'peers', 'peers.sh'), ['stop', 'all'], { stdio: 'inherit' }));
  for (const spec of started.stdout.match(/name=\S+(?: \S+=\S+)*/g) ?? []) targets.push('--target', spec);
}
console.log(`benchmarking simple-proxy (pid ${proxy.pid}, workers ${workers === 0 ? 'one per core' : workers}) on http=${httpPort} socks5=${socksPort}`);
must(join(BENCH, 'run.sh'), [...targets, ...args]);
stopProxy();
must(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-routing.ts')], { cwd: ROOT });
