// `npm run bench:tunnels` (root): throughput of each tunnel backend through the proxy against the
// same tunnel used raw. The test bed (test/testbed) brings up a WireGuard and an OpenVPN far side;
// the daemon brings up its own client tunnels in their namespaces; then curl downloads from the
// origin behind each tunnel, once inside the tunnel's namespace (raw: the tunnel alone) and once
// through the proxy over HTTP, CONNECT and SOCKS5 (the proxy plus the same tunnel). Prints the
// medians and the ratio proxied/raw, and writes them as JSON under .tmp/bench/.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const TESTBED = join(ROOT, 'test', 'testbed');
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const RUNS = option('--runs', 5);
const MIB = option('--mib', 64);

if (process.getuid?.() !== 0) throw new Error('tunnels need root (network namespaces); run as root');

const sh = (command: string, argv: string[], env?: NodeJS.ProcessEnv): string =>
  execFileSync(command, argv, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Bytes per second of one download, as curl measures it. */
function download(argv: string[]): number {
  const result = spawnSync(argv[0], [...argv.slice(1), '-s', '-o', '/dev/null', '--max-time', '60', '-w', '%{speed_download} %{size_download}'], { encoding: 'utf8' });
  const [speed, size] = result.stdout.trim().split(' ').map(Number);
  if (result.status !== 0 || size !== MIB * 1024 * 1024) throw new Error(`download failed (${argv.join(' ')}): exit ${result.status}, ${size} bytes ${result.stderr}`);
  return speed;
}

spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'sp-bench-tunnels-'));
const env: NodeJS.ProcessEnv = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(dir, 'run'), SIMPLE_PROXY_STATE_DIR: join(dir, 'state'), NO_COLOR: '1' };
const cli = (argv: string[]): string => sh(process.execPath, [join(ROOT, 'bin', 'simple-proxy-server.js'), ...argv], env);
let started = false;
try {
  sh(join(TESTBED, 'wg-remote.sh'), ['up']);
  sh(join(TESTBED, 'ovpn-remote.sh'), ['up']);
  const wg = JSON.parse(readFileSync('/tmp/testbed/wg/info.json', 'utf8'));
  const ovpn = JSON.parse(readFileSync('/tmp/testbed/ovpn/info.json', 'utf8'));
  const tunnels = [
    { name: 'wg', type: 'wireguard', file: wg.WG_CLIENT_CONFIG, host: wg.WG_DNS_NAME, ip: wg.WG_ORIGIN_IP },
    { name: 'ovpn', type: 'openvpn', file: ovpn.OVPN_CLIENT_CONFIG, host: ovpn.OVPN_DNS_NAME, ip: ovpn.OVPN_ORIGIN_IP },
  ];
  const config = join(dir, 'server-config.yaml');
  mkdirSync(join(dir, 'run'), { recursive: true });
  writeFileSync(
    config,
    'server:\n  http_port: 0\n  socks5_port: 0\nbackends:\n  - name: direct\n    type: direct\n' +
      tunnels.map((t) => `  - name: ${t.name}\n    type: ${t.type}\n    ${t.type}:\n      config_file: "${t.file}"\n`).join('') +
      'rules:\n' +
      tunnels.map((t) => `  - name: ${t.name}\n    match:\n      domains: ["${t.host}", "${t.ip}"]\n    backend: ${t.name}\n`).join('') +
      '  - name: rest\n    match:\n      domains: ["*"]\n    backend: direct\n',
  );
  cli(['start', '--config', config]);
  started = true;
  const status = JSON.parse(cli(['status', '--json']));
  const http = status.listeners.find((l: { kind: string }) => l.kind === 'http');
  const socks = status.listeners.find((l: { kind: string }) => l.kind === 'socks5');
  const results: Record<string, unknown>[] = [];
  for (const t of tunnels) {
    const tunnel = status.tunnels.find((s: { name: string }) => s.name === t.name);
    if (tunnel?.state !== 'up') throw new Error(`tunnel ${t.name} is not up: ${tunnel?.reason ?? 'unknown'}`);
    const url = `http://${t.ip}/bytes/${MIB * 1024 * 1024}`;
    const ways: Record<string, string[]> = {
      raw: ['ip', 'netns', 'exec', tunnel.netns, 'curl', url],
      http: ['curl', '-x', `http://${http.host}:${http.port}`, url],
      connect: ['curl', '-p', '-x', `http://${http.host}:${http.port}`, url],
      socks5: ['curl', '-x', `socks5h://${socks.host}:${socks.port}`, url],
    };
    const speeds: Record<string, number> = {};
    for (const [way, argv] of Object.entries(ways)) {
      download(argv);
      // Interleaved rounds would share the tunnel; one way at a time, after one warm-up.
      speeds[way] = median(Array.from({ length: RUNS }, () => download(argv)));
    }
    for (const way of ['http', 'connect', 'socks5']) {
      results.push({ tunnel: t.name, way, mbps: +((speeds[way] * 8) / 1e6).toFixed(1), raw_mbps: +((speeds.raw * 8) / 1e6).toFixed(1), ratio: +(speeds[way] / speeds.raw).toFixed(3) });
    }
  }
  console.table(results);
  const out = join(ROOT, '.tmp', 'bench');
  mkdirSync(out, { recursive: true });
  const file = join(out, `tunnels-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ mib: MIB, runs: RUNS, results }, null, 2) + '\n');
  console.log(`written to ${file}`);
} finally {
  if (started) cli(['stop']);
  spawnSync(join(TESTBED, 'ovpn-remote.sh'), ['down'], { stdio: 'ignore' });
  spawnSync(join(TESTBED, 'wg-remote.sh'), ['down'], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
