// `npm run bench:auth`: keep-alive request rate through simple-proxy with `auth.mode: native`
// (every request carries Proxy-Authorization: Basic) against the same proxy with `auth.mode: none`,
// in interleaved rounds against an nginx origin, with wrk (64 connections, 1 thread, as the shared
// harness's metric a). Prints each round, the medians and the ratio auth/none.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashPassword } from '../src/auth/native-provider.js';
import { freePort } from '../test/helpers/ports.js';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const ROUNDS = option('--runs', 3);
const SECONDS = option('--seconds', 10);

for (const program of ['wrk', 'nginx']) {
  if (spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0) throw new Error(`${program} is not installed (scripts/setup-system.sh installs it)`);
}


async function waitForPort(port: number, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://127.0.0.1:${port}/`]).status !== 0) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up on port ${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'sp-bench-auth-'));
const children: ChildProcess[] = [];
const cleanup = (): void => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const originPort = await freePort();
writeFileSync(
  join(dir, 'nginx.conf'),
  `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log;\nevents { worker_connections 4096; }\n` +
    `http {\n  access_log off;\n  client_body_temp_path ${dir};\n  proxy_temp_path ${dir};\n  fastcgi_temp_path ${dir};\n  uwsgi_temp_path ${dir};\n  scgi_temp_path ${dir};\n` +
    `  server {\n    listen 127.0.0.1:${originPort};\n    keepalive_requests 1000000;\n    location / { return 200 "${'x'.repeat(99)}\\n"; }\n  }\n}\n`,
);
children.push(spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'inherit' }));
await waitForPort(originPort, 'nginx');

const user = 'bench';
const password = 'bench-password';
const native = `auth:\n    mode: native\n    native:\n      users:\n        - username: ${user}\n          password_hash: "${await hashPassword(password)}"\n          groups: [all]\n      acl:\n        - group: all\n          backends: ["*"]\n`;

/** Starts one proxy (auth section given or none) on a free port; resolves with its port. */
async function startProxy(name: string, auth: string): Promise<number> {
  const at = join(dir, name);
  const port = await freePort();
  mkdirSync(at, { recursive: true });
  writeFileSync(
    join(at, 'server-config.yaml'),
    `server:\n  http_port: ${port}\n  socks5_port: ${await freePort()}\n  bind_address: "127.0.0.1"\n  log_level: warn\n${auth ? `  ${auth}` : ''}network:\n  limits:\n    max_connections: 20000\n    max_connections_per_ip: 0\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n`,
  );
  const env = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(at, 'run'), SIMPLE_PROXY_STATE_DIR: join(at, 'state') };
  children.push(spawn(process.execPath, [join(ROOT, 'bin', 'simple-proxy-server.js'), 'start', '--foreground', '--config', join(at, 'server-config.yaml')], { env, stdio: ['ignore', 'inherit', 'inherit'] }));
  const deadline = Date.now() + 30_000;
  // Any HTTP answer (407 included) means it listens.
  while (spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://127.0.0.1:${port}/`]).status !== 0) {
    if (Date.now() > deadline) throw new Error(`${name} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return port;
}

const lua = join(dir, 'proxy.lua');
// wrk connects to the proxy; the absolute URI and Host make it a forward-proxy request.
writeFileSync(lua, 'function init(args)\n  wrk.path = args[1]\n  wrk.headers["Host"] = args[1]:match("^http://([^/]+)")\nend\n');
const targets = [
  { name: 'none', port: await startProxy('none', ''), headers: [] as string[] },
  { name: 'native', port: await startProxy('native', native), headers: ['-H', `Proxy-Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`] },
];

/** Requests per second of one wrk run with every answer a 200 (anything else fails the run). */
function rate(target: (typeof targets)[number], seconds: number): number {
  const out = spawnSync('wrk', ['-t1', '-c64', `-d${seconds}s`, '--timeout', '5s', ...target.headers, '-s', lua, `http://127.0.0.1:${target.port}/`, '--', `http://127.0.0.1:${originPort}/small`], { encoding: 'utf8' });
  if (/Non-2xx|Socket errors/.test(out.stdout) || out.status !== 0) throw new Error(`wrk through ${target.name} failed:\n${out.stdout}${out.stderr}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1] ?? 0);
}

for (const target of targets) rate(target, 2);
const rates: Record<string, number[]> = { none: [], native: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const target of targets) rates[target.name].push(rate(target, SECONDS));
  console.log(`round ${round}: none ${rates.none.at(-1)!.toFixed(0)} req/s, native ${rates.native.at(-1)!.toFixed(0)} req/s`);
}
const none = median(rates.none);
const withAuth = median(rates.native);
console.log(`median: none ${none.toFixed(0)} req/s, native ${withAuth.toFixed(0)} req/s, ratio ${(withAuth / none).toFixed(3)}`);
// The proxies and nginx keep the event loop alive: exit, and the exit handler stops them.
process.exit(0);
