import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sandbox } from './cli-harness.js';
import type { Probe, ProbeRun } from './netns-peers.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/simple-proxy-server.js');
const PEERS = join(import.meta.dirname, 'netns-peers.ts');
const DNSD = join(ROOT, 'test/testbed/dnsd.py');

// Addresses inside the test's own network namespace (all on its loopback device).
const METADATA = '169.254.169.254';
const PUBLIC = '198.51.100.10';
const DNS = '198.51.100.53';
const CLIENT = '203.0.113.7';
const [HTTP_PORT, SOCKS_PORT] = [18080, 11080];

/** Why the test cannot run here, or null. */
function missing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for a private network and mount namespace';
  if (spawnSync('unshare', ['--net', '--mount', 'true']).status !== 0) return 'unshare --net --mount is not available';
  for (const tool of ['nsenter', 'python3', 'ip']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is missing`;
  return null;
}

/** Polls `check` every 100 ms until it holds (bounded). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A process inside the namespace, with its output collected; stopped after the test. */
function inside(t: TestContext, holder: number, argv: string[], env?: NodeJS.ProcessEnv, cwd?: string): { child: ChildProcess; output: () => string } {
  // Entering the mount namespace resets the working directory unless --wd names it.
  const child = spawn('nsenter', ['-t', String(holder), '-n', '-m', `--wd=${cwd ?? ROOT}`, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  t.after(() => void child.kill('SIGTERM'));
  return { child, output: () => output };
}

test('in a private network: every form of a metadata or loopback target, names pointing inward and rebinding names are refused on plain HTTP, CONNECT, WebSocket and SOCKS5 alike, open and closed ports answering the same; public targets work', { skip: missing() ?? false, timeout: 120_000 }, async (t) => {
  const box = sandbox(`server:
  http_port: ${HTTP_PORT}
  socks5_port: ${SOCKS_PORT}
  bind_address: 0.0.0.0
  workers: 1
access_control:
  whitelist: ["${CLIENT}"]
  connect_ports: [443, 8443]
`);
  t.after(() => box.cleanup());
  // Names only this namespace knows: /etc/hosts pointing inward, and a resolver that is the fake DNS server.
  writeFileSync(join(box.dir, 'hosts'), `127.0.0.1 localhost\n${METADATA} metadata.test\n127.0.0.1 inward.test\n`);
  writeFileSync(join(box.dir, 'resolv.conf'), `nameserver ${DNS}\noptions timeout:1 attempts:1\n`);
  const setup = [
    'ip link set lo up',
    ...[METADATA, PUBLIC, DNS, CLIENT].map((a) => `ip addr add ${a}/32 dev lo`),
    `mount --bind "${join(box.dir, 'hosts')}" /etc/hosts`,
    `mount --bind "${join(box.dir, 'resolv.conf')}" /etc/resolv.conf`,
    'echo ready',
    'exec sleep 300',
  ].join(' && ');
  const holderProcess = spawn('unshare', ['--net', '--mount', '--propagation', 'private', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void holderProcess.kill('SIGKILL'));
  let ready = '';
  holderProcess.stdout!.on('data', (c: Buffer) => (ready += c.toString()));
  await until('the namespace', () => ready.includes('ready'));
  const holder = holderProcess.pid!;

  const dns = inside(t, holder, ['python3', DNSD, '--bind', DNS, '--port', '53', '--record', `public.test=${PUBLIC}`, '--record', `mixed.test=${PUBLIC},${METADATA}`, '--flip', `rebind.test=${PUBLIC},${METADATA}`]);
  const origins = inside(t, holder, [process.execPath, '--import', 'tsx', PEERS, 'origin', ...[80, 443].flatMap((port) => [`${METADATA}:${port}=METADATA-SECRET`, `127.0.0.1:${port}=LOOPBACK-SECRET`, `${PUBLIC}:${port}=public-ok`])], undefined, ROOT);
  await until('the origins', () => origins.output().includes('READY') || origins.child.exitCode !== null);
  assert.equal(origins.child.exitCode, null, origins.output());
  await until('the fake DNS server', () => dns.output().includes('dnsd on'));
  const daemon = inside(t, holder, [process.execPath, BIN, 'start', '--foreground'], box.env, box.dir);
  await until('the daemon', async () => (await run('nsenter', ['-t', String(holder), '-n', 'bash', '-c', `exec 3<>/dev/tcp/${CLIENT}/${HTTP_PORT}`]).then(() => true, () => false)) || daemon.child.exitCode !== null);
  assert.equal(daemon.child.exitCode, null, daemon.output());

  const probe = async (probes: Probe[]): Promise<string[]> => {
    const request: ProbeRun = { proxy: CLIENT, http: HTTP_PORT, socks: SOCKS_PORT, probes };
    const { stdout, stderr } = await run('nsenter', ['-t', String(holder), '-n', '-m', `--wd=${ROOT}`, process.execPath, '--import', 'tsx', PEERS, 'probe', JSON.stringify(request)], { timeout: 90_000 });
    const slow = stderr.split('\n').filter((line) => Number(/ (\d+) ms$/.exec(line)?.[1] ?? 0) > 1000);
    if (slow.length > 0) t.diagnostic(`slow probes: ${slow.join('; ')}`);
    return JSON.parse(stdout) as string[];
  };
  const fronts = (host: string, open: boolean): Probe[] => [
    { front: 'plain', host, port: open ? 80 : 8080 },
    { front: 'connect', host, port: open ? 443 : 8443 },
    { front: 'upgrade', host, port: open ? 80 : 8080 },
    { front: 'socks', host, port: open ? 80 : 8080 },
  ];

  const inward = [METADATA, `${METADATA}.`, '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', '169.254.43518', `[::ffff:${METADATA}]`, '127.0.0.1.', '127.1', 'localhost', 'metadata.test', 'inward.test', 'mixed.test'];
  const rebind = (front: 'plain' | 'socks', n: number): Probe[] => Array.from({ length: n }, () => ({ front, host: 'rebind.test', port: 80 }));
  // One batch: the probe program starts once.
  const batch = [...inward.flatMap((host) => [...fronts(host, true), ...fronts(host, false)]), ...rebind('plain', 8), ...rebind('socks', 4), ...fronts('public.test', true), ...fronts(PUBLIC, true)];
  const answers = await probe(batch);
  for (const [h, host] of inward.entries()) {
    const open = answers.slice(h * 8, h * 8 + 4);
    const closed = answers.slice(h * 8 + 4, h * 8 + 8);
    for (const [i, answer] of open.entries()) {
      if (i === 3) assert.equal(answer, 'socks 0502', `${host}: SOCKS5 not allowed`);
      else assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n[^]*destination_ip_prohibited[^]*loopback or link-local/i, `${host} (${fronts(host, true)[i].front}): ${answer}`);
    }
    assert.deepEqual(closed, open, `${host}: a closed port answers as an open one (no port-scan oracle)`);
  }
  const rest = answers.slice(inward.length * 8);
  const rebinding = rest.slice(0, 8);
  assert.ok(rebinding.some((a) => a.startsWith('HTTP/1.1 200 ')), `the public answer serves: ${rebinding.map((a) => a.slice(9, 12)).join(' ')}`);
  assert.ok(rebinding.some((a) => a.startsWith('HTTP/1.1 403 ')), 'the metadata answer is refused');
  assert.ok(rest.slice(8, 12).includes('socks 0502'), `SOCKS5 refuses the metadata answer: ${rest.slice(8, 12).join(' ')}`);

  const publicAnswers = rest.slice(12);
  for (const answer of publicAnswers.filter((_a, i) => i % 4 === 0)) assert.match(answer, /^HTTP\/1\.1 200 [^]*public-ok$/);
  for (const answer of publicAnswers.filter((_a, i) => i % 4 === 1)) assert.match(answer, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 [^]*public-ok$/);
  for (const answer of publicAnswers.filter((_a, i) => i % 4 === 2)) assert.match(answer, /^HTTP\/1\.1 101 Switching Protocols[^]*X-Origin: public-ok/);
  for (const answer of publicAnswers.filter((_a, i) => i % 4 === 3)) assert.equal(answer, 'socks 0500 public-ok');

  const hits = origins.output().split('\n').filter((line) => line.startsWith('HIT '));
  assert.ok(hits.length > 0, 'the public origin was reached');
  assert.deepEqual(hits.filter((line) => !line.includes(PUBLIC)), [], 'nothing reached the metadata or loopback origins');
});
