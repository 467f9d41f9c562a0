import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { tunnelNames } from '../../src/tunnels/tunnel-names.js';
import { findProgram } from '../../src/tunnels/host-support.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/tls-files.js';
import { associate } from '../integration/udp/udp-fixture.js';
import { createSocket } from 'node:dgram';

/*
 * End to end through real tunnels: the test bed (test/testbed) stands up a WireGuard
 * server and two OpenVPN servers in namespaces of their own, each with an origin reachable only
 * through its tunnel. Every remote is brought up once for this file (the only one that uses them)
 * and down at the end. Needs root and the Debian packages of scripts/setup-system.sh.
 */
const run = promisify(execFile);
const TESTBED = process.env.TESTBED_DIR ?? resolve(import.meta.dirname, '../testbed');
const missing = ['wireguard-go', 'wg', 'openvpn', 'ip', 'curl'].filter((p) => !findProgram(p));
const skip =
  process.getuid?.() !== 0
    ? 'tunnels need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); CI runs as root'
    : missing.length > 0
      ? `missing programs: ${missing.join(', ')} (run scripts/setup-system.sh)`
      : !existsSync(`${TESTBED}/wg-remote.sh`)
        ? `no tunnel test bed at ${TESTBED} (set TESTBED_DIR)`
        : false;

interface WgInfo {
  WG_CLIENT_CONFIG: string;
  WG_EXPECTED_SOURCE_IP: string;
  WG_ORIGIN_IP: string;
  WG_DNS_NAME: string;
  WG_DNS_SERVER: string;
  /** Where the far side's DNS server appends one JSON line per query it receives. */
  WG_DNS_QUERY_LOG: string;
  WG_ORIGIN_UDP_ECHO: string;
  WG_SERVER_NS: string;
  WG_ORIGIN_NS: string;
}
interface OvpnInfo {
  OVPN_CLIENT_CONFIG: string;
  OVPN_EXPECTED_SOURCE_IP: string;
  OVPN_USERPASS_CONFIG: string;
  OVPN_USERPASS_AUTH_FILE: string;
  OVPN_USERPASS_BAD_AUTH_FILE: string;
  OVPN_USERPASS_EXPECTED_SOURCE_IP: string;
  OVPN_ORIGIN_IP: string;
  OVPN_DNS_NAME: string;
  OVPN_ORIGIN_UDP_ECHO: string;
  OVPN_SERVER_NS: string;
}

let wg: WgInfo;
let ovpn: OvpnInfo;
let local: Server;
let localPort = 0;
const remote = (script: string, arg: string): string => execFileSync(`${TESTBED}/${script}`, [arg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
const hostNetwork = (): string =>
  ['ip -4 route show table all', 'ip -6 route show table all', 'ip -4 rule', 'ip -6 rule'].map((c) => execFileSync('sh', ['-c', c], { encoding: 'utf8' })).join('\n') + readFileSync('/etc/resolv.conf', 'utf8');

before(async () => {
  if (skip) return;
  remote('wg-remote.sh', 'up');
  remote('ovpn-remote.sh', 'up');
  wg = JSON.parse(readFileSync('/tmp/testbed/wg/info.json', 'utf8'));
  ovpn = JSON.parse(readFileSync('/tmp/testbed/ovpn/info.json', 'utf8'));
  local = createServer((req, res) => res.end(`direct ${req.socket.remoteAddress}`));
  local.listen(0, '127.0.0.1');
  await once(local, 'listening');
  localPort = (local.address() as { port: number }).port;
});

after(() => {
  if (skip) return;
  local.close();
  remote('ovpn-remote.sh', 'down');
  remote('wg-remote.sh', 'down');
});

function config(backends: string, workers = 2): string {
  const rule = (name: string, domain: string): string => (backends.includes(`name: ${name}\n`) ? `  - name: ${name}\n    match:\n      domains: ["${domain}"]\n    backend: ${name}\n` : '');
  return `server:
  http_port: 0
  socks5_port: 0
  workers: ${workers}
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct
    type: direct
${backends}
rules:
${rule('wg', wg.WG_DNS_NAME)}${rule('wg', wg.WG_ORIGIN_IP).replace('name: wg', 'name: wg-ip')}${rule('ovpn-cert', ovpn.OVPN_DNS_NAME)}${rule('ovpn-pass', ovpn.OVPN_ORIGIN_IP)}  - name: Default
    match:
      domains: ["*"]
    backend: direct
shutdown:
  drain_timeout: "2s"
  force_timeout: "10s"
`;
}

const wgBackend = (file = wg.WG_CLIENT_CONFIG): string => `  - name: wg
    type: wireguard
    wireguard:
      config_file: "${file}"
`;
const certBackend = (): string => `  - name: ovpn-cert
    type: openvpn
    openvpn:
      config_file: "${ovpn.OVPN_CLIENT_CONFIG}"
`;
const passBackend = (auth: string): string => `  - name: ovpn-pass
    type: openvpn
    openvpn:
      config_file: "${ovpn.OVPN_USERPASS_CONFIG}"
${auth}`;

/** A health check that shows a change within seconds. */
const check = (body: string): string => `    health_check:\n      interval: "500ms"\n      timeout: "2s"\n      healthy_threshold: 1\n      unhealthy_threshold: 2\n${body}`;
/** wg checked by an http GET through the tunnel, ovpn-cert by a ping of a name only the tunnel's DNS knows. */
const wgChecked = (): string => wgBackend() + check(`      type: http\n      http: { url: "http://${wg.WG_DNS_NAME}/health" }\n`);
const certChecked = (): string => certBackend() + check(`      type: ping\n      target: "${ovpn.OVPN_DNS_NAME}:1"\n`);

/** Makes a far side refuse (ICMP "prohibited") what a tunnel client sends to its origin, or stop refusing it; true when ip did it. */
const farSide = (action: 'add' | 'del', [netns, from, to]: [string, string, string]): boolean =>
  spawnSync('ip', ['-n', netns, 'rule', action, 'from', from, 'to', to, 'prohibit', 'pref', '90'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

/** An https server in a namespace that answers GET with the caller's address, as api.ipify.org does. */
async function httpsEcho(netns: string, address: string, port: number, tls: TlsFiles): Promise<() => void> {
  const script = `const fs = require('fs'); const [cert, key, host, port] = process.argv.slice(1);
require('https').createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (q, s) => s.end(q.socket.remoteAddress + '\\n')).listen(Number(port), host, () => console.log('ready'));`;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script, tls.cert, tls.key, address, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  await waitFor(`the https echo in ${netns}`, async () => output.includes('ready') || child.exitCode !== null, 10_000);
  if (!output.includes('ready')) throw new Error(`the https echo did not start: ${output}`);
  return () => child.kill();
}

type BackendView = { name: string; status: string; reason?: string; health: { status: string } };
async function backendList(box: Sandbox): Promise<BackendView[]> {
  const view = JSON.parse((await box.cli(['backend', 'list', '--json'])).stdout) as BackendView[] | { backends: BackendView[] };
  return Array.isArray(view) ? view : view.backends;
}

async function curl(box: Sandbox, url: string, mode: 'http' | 'connect' | 'socks5' = 'http'): Promise<string> {
  const status = await box.status();
  const http = status.listeners.find((l) => l.kind === 'http')!.port;
  const socks = status.listeners.find((l) => l.kind === 'socks5')!.port;
  const proxy = mode === 'socks5' ? ['--socks5-hostname', `127.0.0.1:${socks}`] : ['-x', `http://127.0.0.1:${http}`, ...(mode === 'connect' ? ['-p'] : [])];
  const { stdout } = await run('curl', ['-s', '--max-time', '10', ...proxy, url]).catch((e: { stdout: string }) => e);
  return stdout.trim();
}

type Tunnel = { name: string; state: string; pid?: number; reason?: string; netns: string; iface: string; dns: string[] };
const tunnels = async (box: Sandbox): Promise<Tunnel[]> => ((await box.status()) as unknown as { tunnels: Tunnel[] }).tunnels;
const tunnel = async (box: Sandbox, name: string): Promise<Tunnel | undefined> => (await tunnels(box)).find((t) => t.name === name);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What the daemon of a sandbox could leave behind: namespaces, tunnel processes, helpers, sockets, links. */
function leftovers(box: Sandbox): string[] {
  const names = tunnelNames(resolve(box.dir, 'state', 'server'));
  const found: string[] = [];
  found.push(...readdirSafe('/run/netns').filter((n) => n.startsWith(names.netnsPrefix)).map((n) => `namespace ${n}`));
  found.push(...readdirSafe('/var/run/wireguard').filter((n) => n.startsWith(names.ifacePrefix)).map((n) => `socket ${n}`));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  if (links.includes(names.ifacePrefix)) found.push('a host link');
  for (const pid of readdirSafe('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes(names.ifacePrefix) || (cmd.includes('ns-dialer-helper') && cmd.includes(box.dir))) found.push(`process ${pid}: ${cmd.replaceAll('\0', ' ').slice(0, 80)}`);
  }
  if (existsSync(resolve(box.dir, 'run', 'tunnels'))) found.push('the tunnels dir');
  return found;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

test('WireGuard and OpenVPN backends carry exactly the connections routed to them, and leave the host untouched', { skip, timeout: 240_000 }, async (t) => {
  const network = hostNetwork();
  const box = sandbox(config(wgChecked() + certChecked() + passBackend(`      auth_file: "${ovpn.OVPN_USERPASS_AUTH_FILE}"\n`)));
  const tls = makeTlsFiles(box.dir, [wg.WG_DNS_NAME]);
  box.env.NODE_EXTRA_CA_CERTS = tls.ca;
  box.env.OVPN_TEST_USER = readFileSync(ovpn.OVPN_USERPASS_AUTH_FILE, 'utf8').split('\n')[0];
  box.env.OVPN_TEST_PASS = readFileSync(ovpn.OVPN_USERPASS_AUTH_FILE, 'utf8').split('\n')[1];
  t.after(() => box.cleanup().catch(() => undefined));

  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  const announced = started.stderr.indexOf('bringing up 3 tunnels: "wg" (wireguard), "ovpn-cert" (openvpn), "ovpn-pass" (openvpn)');
  assert.ok(announced >= 0, `start says at once which tunnels it brings up: ${started.stderr}`);
  for (const name of ['wg', 'ovpn-cert', 'ovpn-pass']) {
    const up = started.stderr.search(new RegExp(`tunnel "${name}" \\(\\w+\\): up in`));
    assert.ok(up > announced, `start shows tunnel "${name}" coming up: ${started.stderr}`);
  }

  await t.test('routed names resolve with the tunnel DNS and the origin sees the tunnel address, over HTTP, CONNECT and SOCKS5', async () => {
    assert.equal(await curl(box, `http://${wg.WG_DNS_NAME}/ip`), wg.WG_EXPECTED_SOURCE_IP);
    assert.equal(await curl(box, `http://${wg.WG_ORIGIN_IP}/ip`, 'connect'), wg.WG_EXPECTED_SOURCE_IP);
    assert.equal(await curl(box, `http://${ovpn.OVPN_DNS_NAME}/ip`, 'socks5'), ovpn.OVPN_EXPECTED_SOURCE_IP);
    // Both OpenVPN tunnels route the same origin subnet: each lives in its own namespace.
    assert.equal(await curl(box, `http://${ovpn.OVPN_ORIGIN_IP}/ip`), ovpn.OVPN_USERPASS_EXPECTED_SOURCE_IP);
    assert.equal(await curl(box, `http://127.0.0.1:${localPort}/`), 'direct 127.0.0.1', 'another domain still goes direct');
    assert.equal(hostNetwork(), network, 'host routes, rules and /etc/resolv.conf are unchanged');
  });

  await t.test('backend test reports the egress address (http or https echo) and where DNS was resolved, with no leak', async () => {
    const stopEcho = await httpsEcho(wg.WG_ORIGIN_NS, wg.WG_ORIGIN_IP, 8443, tls);
    try {
      for (const ipUrl of [`http://${wg.WG_ORIGIN_IP}/ip`, `https://${wg.WG_DNS_NAME}:8443/ip`]) {
        const answer = await box.cli(['backend', 'test', '--name', 'wg', '--target', `${wg.WG_DNS_NAME}:80`, '--ip-url', ipUrl, '--json']);
        assert.equal(answer.code, 0, answer.stderr + answer.stdout);
        const report = JSON.parse(answer.stdout);
        assert.equal(report.ok, true);
        assert.equal(report.localAddress, wg.WG_EXPECTED_SOURCE_IP);
        assert.match(report.resolvedBy, /^tunnel DNS /);
        assert.deepEqual(report.egress, { throughTunnel: wg.WG_EXPECTED_SOURCE_IP, fromHost: null, url: ipUrl }, 'the origin is not reachable from the host');
        assert.deepEqual(report.leaks, []);
      }
    } finally {
      stopEcho();
    }
    const byDefault = await box.cli(['backend', 'test', '--name', 'wg', '--target', `${wg.WG_DNS_NAME}:80`]);
    assert.equal(byDefault.code, 0, byDefault.stderr + byDefault.stdout);
    assert.match(byDefault.stdout, /egress address not checked +https:\/\/api\.ipify\.org did not answer through the tunnel \(.+\), so the egress address is unknown; pass --ip-url/);
    const silent = await box.cli(['backend', 'test', '--name', 'wg', '--target', `${wg.WG_DNS_NAME}:80`, '--ip-url', `http://${wg.WG_ORIGIN_IP}:81/ip`]);
    assert.equal(silent.code, 6, 'an echo URL the caller named must answer');
    assert.match(silent.stderr, /http:\/\/10\.213\.2\.2:81\/ip did not answer through the tunnel/);
  });

  await t.test('backend test fails loudly when the tunnel DNS would leave by another path', async () => {
    const { netns, iface, dns } = (await tunnel(box, 'wg'))!;
    assert.ok(dns.length > 0, 'the .conf names a DNS server');
    // A second way out of the namespace, and the DNS server routed through it: what the self-test is there to catch.
    const ip = (args: string[]): void => void execFileSync('ip', ['-n', netns, ...args], { stdio: 'ignore', timeout: 10_000 });
    ip(['link', 'add', 'spleak0', 'type', 'veth', 'peer', 'name', 'spleak1']);
    const args = ['backend', 'test', '--name', 'wg', '--target', `${wg.WG_ORIGIN_IP}:80`, '--ip-url', `http://${wg.WG_ORIGIN_IP}/ip`];
    try {
      ip(['link', 'set', 'spleak0', 'up']);
      ip(['link', 'set', 'spleak1', 'up']);
      ip(['route', 'add', `${dns[0]}/32`, 'dev', 'spleak0']);
      const leaking = await box.cli(args);
      assert.equal(leaking.code, 6, leaking.stdout + leaking.stderr);
      assert.match(leaking.stderr, new RegExp(`backend "wg" leaks to the host path:\\n  DNS server ${dns[0].replaceAll('.', '\\.')} is reached through spleak0, not the tunnel interface ${iface}`));
    } finally {
      spawnSync('ip', ['-n', netns, 'link', 'del', 'spleak0'], { stdio: 'ignore', timeout: 10_000 });
    }
    const clean = await box.cli(args);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /no leak: traffic and DNS stay in the tunnel/);
  });

  await t.test('health checks run through the tunnels (http, and ping of a tunnel DNS name) and follow the far side', async () => {
    const all = async (status: string): Promise<boolean> => {
      const list = await backendList(box);
      return ['wg', 'ovpn-cert'].every((name) => list.find((b) => b.name === name)?.health.status === status);
    };
    await waitFor('both checked tunnels healthy', () => all('healthy'));
    const blocks: [string, string, string][] = [
      [wg.WG_SERVER_NS, wg.WG_EXPECTED_SOURCE_IP, wg.WG_ORIGIN_IP],
      [ovpn.OVPN_SERVER_NS, ovpn.OVPN_EXPECTED_SOURCE_IP, ovpn.OVPN_ORIGIN_IP],
    ];
    try {
      for (const block of blocks) assert.ok(farSide('add', block));
      await waitFor('both unhealthy while their far side refuses the origin', () => all('unhealthy'));
      assert.deepEqual([(await tunnel(box, 'wg'))?.state, (await tunnel(box, 'ovpn-cert'))?.state], ['up', 'up'], 'only the checks through the tunnels saw it');
    } finally {
      for (const block of blocks) farSide('del', block);
    }
    await waitFor('both healthy again', () => all('healthy'));
  });

  await t.test('a killed tunnel process makes its backend unhealthy, then it comes back, after a longer wait each time it dies again soon', async () => {
    const log = join(box.dir, 'state', 'server', 'daemon.log');
    /**
     * Kills the tunnel's process; returns why the daemon said it went down (from its log: the
     * restart delay is too short a window to catch by polling on a loaded machine), and the tunnel
     * once it is back up.
     */
    const killOnce = async (name: string): Promise<{ down: string; back: Tunnel }> => {
      const before = await tunnel(box, name);
      assert.equal(before?.state, 'up');
      const from = readFileSync(log, 'utf8').length;
      process.kill(before!.pid!, 'SIGKILL');
      const down = await waitFor(`${name} down`, async () => readFileSync(log, 'utf8').slice(from).match(new RegExp(`warn tunnel "${name}" \\(\\w+\\) down: (.*restarting in .*)`))?.[1]);
      const back = await waitFor(`${name} back up`, async () => {
        const now = await tunnel(box, name);
        return now?.state === 'up' && now.pid !== before!.pid && now;
      });
      return { down, back };
    };
    for (const name of ['wg', 'ovpn-cert']) {
      const first = await killOnce(name);
      assert.match(first.down, /(killed|exited).*; restarting in 1 s/);
      assert.ok(first.back.pid);
    }
    const again = await killOnce('wg');
    assert.match(again.down, /; restarting in 2 s/, 'dying again soon after coming back doubles the wait');
    // Up again is not yet healthy: the checks that failed while it was down are redone at once.
    await waitFor('both checked tunnels healthy again', async () => {
      const list = await backendList(box);
      return ['wg', 'ovpn-cert'].every((name) => list.find((b) => b.name === name)?.health.status === 'healthy');
    });
    assert.equal(await curl(box, `http://${wg.WG_DNS_NAME}/ip`), wg.WG_EXPECTED_SOURCE_IP);
    assert.equal(await curl(box, `http://${ovpn.OVPN_DNS_NAME}/ip`), ovpn.OVPN_EXPECTED_SOURCE_IP);
  });

  await t.test('a reload restarts only the changed tunnel (inline credentials from ${ENV}) and removes a dropped one', async () => {
    const wgBefore = await tunnel(box, 'wg');
    const passBefore = await tunnel(box, 'ovpn-pass');
    const certNetns = (await tunnel(box, 'ovpn-cert'))!.netns;
    writeFileSync(box.config, config(wgChecked() + passBackend('      username: "${OVPN_TEST_USER}"\n      password: "${OVPN_TEST_PASS}"\n')));
    const reloaded = await box.cli(['config', 'reload']);
    assert.equal(reloaded.code, 0, reloaded.stderr + reloaded.stdout);
    const pass = await waitFor('ovpn-pass up again', async () => {
      const now = await tunnel(box, 'ovpn-pass');
      return now?.state === 'up' && now.pid !== passBefore!.pid && now;
    });
    assert.ok(pass);
    assert.equal((await tunnel(box, 'wg'))?.pid, wgBefore!.pid, 'the unchanged tunnel is not touched');
    assert.equal(await tunnel(box, 'ovpn-cert'), undefined);
    assert.ok(!readdirSafe('/run/netns').includes(certNetns), 'the namespace of the dropped tunnel is gone');
    assert.equal(await curl(box, `http://${ovpn.OVPN_ORIGIN_IP}/ip`), ovpn.OVPN_USERPASS_EXPECTED_SOURCE_IP);
    assert.equal(await curl(box, `http://${wg.WG_ORIGIN_IP}/ip`), wg.WG_EXPECTED_SOURCE_IP);
  });

  await t.test('a reload adds a tunnel without touching the running ones', async () => {
    const wgBefore = await tunnel(box, 'wg');
    const passBefore = await tunnel(box, 'ovpn-pass');
    writeFileSync(box.config, config(wgChecked() + certBackend() + passBackend('      username: "${OVPN_TEST_USER}"\n      password: "${OVPN_TEST_PASS}"\n')));
    const reloaded = await box.cli(['config', 'reload']);
    assert.equal(reloaded.code, 0, reloaded.stderr + reloaded.stdout);
    await waitFor('ovpn-cert up', async () => (await tunnel(box, 'ovpn-cert'))?.state === 'up');
    assert.equal(await curl(box, `http://${ovpn.OVPN_DNS_NAME}/ip`), ovpn.OVPN_EXPECTED_SOURCE_IP);
    assert.deepEqual([(await tunnel(box, 'wg'))?.pid, (await tunnel(box, 'ovpn-pass'))?.pid], [wgBefore!.pid, passBefore!.pid], 'the running tunnels are not touched');
  });

  await t.test('stop leaves nothing behind', async () => {
    const stopped = await box.cli(['stop']);
    assert.equal(stopped.code, 0, stopped.stderr);
    await waitFor('nothing left after stop', async () => leftovers(box).length === 0, 10_000).catch(() => assert.deepEqual(leftovers(box), []));
    assert.equal(hostNetwork(), network);
  });
});

/** A DNS server's query log (dnsd.py --log), from the lines written after this call on. */
function queryLog(file: string): { queries(): { from: string; name: string | null }[] } {
  const lines = (): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const skipped = lines().length;
  return { queries: () => lines().slice(skipped).map((l) => JSON.parse(l) as { from: string; name: string | null }) };
}

/**
 * A DNS server in the host's own namespace on `address` (a veth of the test's, removed after the
 * test), recording what it receives: where a datagram would land if it left by the host's route.
 */
async function hostSideResolver(t: { after(fn: () => void): void }, address: string): Promise<ReturnType<typeof queryLog>> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-decoy-dns-'));
  const log = join(dir, 'queries.log');
  writeFileSync(log, '');
  const ip = (args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
  spawnSync('ip', ['link', 'del', 'spdecoy0'], { stdio: 'ignore', timeout: 10_000 });
  ip(['link', 'add', 'spdecoy0', 'type', 'veth', 'peer', 'name', 'spdecoy1']);
  let server: ReturnType<typeof spawn> | null = null;
  t.after(() => {
    server?.kill();
    spawnSync('ip', ['link', 'del', 'spdecoy0'], { stdio: 'ignore', timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  ip(['link', 'set', 'spdecoy0', 'up']);
  ip(['link', 'set', 'spdecoy1', 'up']);
  ip(['addr', 'add', `${address}/32`, 'dev', 'spdecoy0']);
  server = spawn('python3', [join(TESTBED, 'dnsd.py'), '--bind', address, '--port', '53', '--record', 'host.decoy.test=192.0.2.1', '--log', log], { stdio: 'ignore' });
  // It answers the host: the host now has a way to that address.
  const probe = createSocket('udp4');
  probe.on('error', () => undefined);
  try {
    await waitFor('the host-side resolver answering the host', async () => {
      const answered = once(probe, 'message').then(([message]) => (message as Buffer).readUInt16BE(0) === 0x5350);
      probe.send(dnsQuery('host.decoy.test'), 53, address);
      return Promise.race([answered, new Promise<false>((r) => setTimeout(() => r(false), 500))]);
    }, 15_000);
  } finally {
    probe.close();
  }
  return queryLog(log);
}

/** A DNS query (A record, recursion desired) for `name`, with id 0x5350. */
function dnsQuery(name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  return Buffer.concat([Buffer.from([0x53, 0x50, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

test('UDP through WireGuard and OpenVPN backends (SOCKS5 UDP ASSOCIATE): datagrams, names and a DNS query leave through the tunnel, none by the host', { skip, timeout: 120_000 }, async (t) => {
  const [echoIp, echoPort] = wg.WG_ORIGIN_UDP_ECHO.split(':');
  const dnsRule = `  - name: wg-dns\n    match:\n      domains: ["${wg.WG_DNS_SERVER}"]\n    backend: wg\n`;
  const box = sandbox(config(wgBackend() + certBackend()).replace('rules:\n', `rules:\n${dnsRule}`));
  t.after(() => box.cleanup().catch(() => undefined));
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  const socks = (await box.status()).listeners.find((l) => l.kind === 'socks5')!.port;
  const association = await associate(socks);
  t.after(() => association.close());
  const farSide = queryLog(wg.WG_DNS_QUERY_LOG);

  // The far side's echo prefixes the source it saw: the tunnel address, not the host's.
  // Each exchange is sent again if a datagram is lost on a busy host (UDP promises nothing).
  const byAddress = await association.ask(echoIp, Number(echoPort), 'by address', (r) => r.data.endsWith('by address'));
  assert.match(byAddress.data, new RegExp(`^${wg.WG_EXPECTED_SOURCE_IP.replaceAll('.', '\\.')}:\\d+ by address$`));
  // A name only the tunnel's DNS knows: resolved inside the tunnel namespace.
  const byName = await association.ask(wg.WG_DNS_NAME, Number(echoPort), 'by name', (r) => r.data.endsWith('by name'));
  assert.equal(byName.host, echoIp);
  assert.match(byName.data, / by name$/);

  // The name was resolved by the tunnel's DNS server, asked from the tunnel address.
  const fromTunnel = new RegExp(`^${wg.WG_EXPECTED_SOURCE_IP.replaceAll('.', '\\.')}:\\d+$`);
  assert.ok(farSide.queries().some((q) => q.name === wg.WG_DNS_NAME && fromTunnel.test(q.from)), `the far side resolved the name: ${JSON.stringify(farSide.queries())}`);

  // A host-side resolver on the tunnel resolver's own address, answering the host: a datagram
  // that left by the host's route would reach it.
  const decoy = await hostSideResolver(t, wg.WG_DNS_SERVER);
  // A DNS query as a datagram to the tunnel's resolver is answered through the tunnel: seen on
  // the far side from the tunnel address, never by the host-side resolver.
  const answer = Buffer.from((await association.ask(wg.WG_DNS_SERVER, 53, dnsQuery(wg.WG_DNS_NAME), (r) => r.port === 53)).data, 'latin1');
  assert.deepEqual(decoy.queries(), [], 'the host-side resolver saw nothing from the proxy');
  assert.equal(answer.readUInt16BE(0), 0x5350);
  assert.equal(answer.readUInt16BE(6), 1, 'one answer');
  assert.deepEqual([...answer.subarray(-4)], echoIp.split('.').map(Number));
  const leakCheck = `udp-leak-${process.pid}.wg.test`;
  const unknown = Buffer.from((await association.ask(wg.WG_DNS_SERVER, 53, dnsQuery(leakCheck), (r) => r.port === 53)).data, 'latin1');
  assert.equal(unknown.readUInt16BE(2) & 0xf, 3, 'the far side, which does not know the name, says NXDOMAIN');
  assert.ok(farSide.queries().some((q) => q.name === leakCheck && fromTunnel.test(q.from)), `the far side saw the query from the tunnel address: ${JSON.stringify(farSide.queries())}`);
  assert.deepEqual(decoy.queries(), [], 'the host-side resolver saw nothing from the proxy');

  // The OpenVPN backend takes its socket from the same helper: the far side sees the tunnel's address.
  const overOpenvpn = await association.ask(ovpn.OVPN_DNS_NAME, Number(ovpn.OVPN_ORIGIN_UDP_ECHO.split(':')[1]), 'over openvpn', (r) => r.data.endsWith('over openvpn'));
  assert.match(overOpenvpn.data, new RegExp(`^${ovpn.OVPN_EXPECTED_SOURCE_IP.replaceAll('.', '\\.')}:\\d+ over openvpn$`));
});

test('the .conf fields reach the tunnel interface; after kill -9 of the daemon, the next start removes what it left', { skip, timeout: 120_000 }, async (t) => {
  const files = mkdtempSync(join(tmpdir(), 'sp-tunnel-files-'));
  const withMtu = join(files, 'mtu.conf');
  writeFileSync(withMtu, readFileSync(wg.WG_CLIENT_CONFIG, 'utf8').replace(/^\[Interface\]$/m, '[Interface]\nMTU = 1380'), { mode: 0o600 });
  const box = sandbox(config(wgBackend(withMtu), 1));
  t.after(async () => {
    await box.cleanup().catch(() => undefined);
    rmSync(files, { recursive: true, force: true });
  });
  assert.equal((await box.cli(['start'])).code, 0);
  assert.equal(await curl(box, `http://${wg.WG_DNS_NAME}/ip`), wg.WG_EXPECTED_SOURCE_IP);

  // Address, MTU, one route per AllowedIPs entry and PersistentKeepalive, as the .conf says, in the namespace only.
  const { netns, iface } = (await tunnel(box, 'wg'))!;
  const conf = readFileSync(withMtu, 'utf8');
  const inNs = (args: string[]): string => execFileSync('ip', ['-n', netns, ...args], { encoding: 'utf8', timeout: 10_000 });
  assert.match(inNs(['-o', 'link', 'show', 'dev', iface]), / mtu 1380 /);
  assert.match(inNs(['-o', '-4', 'addr', 'show', 'dev', iface]), new RegExp(` inet ${wg.WG_EXPECTED_SOURCE_IP.replaceAll('.', '\\.')}/32 `));
  const allowed = /^AllowedIPs = (.+)$/m.exec(conf)![1].split(/\s*,\s*/);
  const routes = inNs(['route', 'show', 'dev', iface]);
  for (const net of allowed) assert.match(routes, new RegExp(`^${net.replace('/32', '').replaceAll('.', '\\.')}(/\\d+)? `, 'm'), `a route for AllowedIPs ${net}`);
  assert.match(execFileSync('wg', ['show', iface, 'persistent-keepalive'], { encoding: 'utf8', timeout: 10_000 }), /\t25$/m);
  assert.ok(!execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${iface}:`), 'the interface is not in the host namespace');
  process.kill((await box.status()).pid, 'SIGKILL');
  await waitFor('the daemon gone', async () => !(await box.status().catch(() => false)), 10_000);
  const restarted = await box.cli(['start']);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.match(readFileSync(resolve(box.dir, 'state', 'server', 'daemon.log'), 'utf8'), /removed what a previous run left behind: .*namespace sp-/);
  assert.equal(await curl(box, `http://${wg.WG_DNS_NAME}/ip`), wg.WG_EXPECTED_SOURCE_IP);
  assert.equal((await tunnels(box)).length, 1);
  assert.equal((await box.cli(['stop'])).code, 0);
  await waitFor('nothing left', async () => leftovers(box).length === 0, 10_000).catch(() => assert.deepEqual(leftovers(box), []));
});

test('bad input and silent peers fail their backend with a clear reason while the others serve, and never hang start', { skip, timeout: 120_000 }, async (t) => {
  const files = mkdtempSync(join(tmpdir(), 'sp-tunnel-files-'));
  const silent = join(files, 'silent.conf');
  writeFileSync(silent, readFileSync(wg.WG_CLIENT_CONFIG, 'utf8').replace(/^Endpoint = .*$/m, 'Endpoint = 10.213.0.99:51820'), { mode: 0o600 });
  const scripted = join(files, 'scripted.ovpn');
  writeFileSync(scripted, `${readFileSync(ovpn.OVPN_CLIENT_CONFIG, 'utf8')}\nup /bin/true\n`, { mode: 0o600 });
  // A profile openvpn itself refuses: its CA names a file that is not there.
  const noCa = join(files, 'no-ca.ovpn');
  writeFileSync(noCa, readFileSync(ovpn.OVPN_CLIENT_CONFIG, 'utf8').replace(/<ca>[\s\S]*?<\/ca>/, 'ca missing-ca.crt'), { mode: 0o600 });
  const box = sandbox(
    config(
      wgBackend(silent) +
        `  - name: ovpn-cert
    type: openvpn
    openvpn:
      config_file: "${scripted}"
  - name: ovpn-noca
    type: openvpn
    openvpn:
      config_file: "${noCa}"
` +
        passBackend(`      auth_file: "${ovpn.OVPN_USERPASS_BAD_AUTH_FILE}"\n`),
      1,
    ),
  );
  t.after(async () => {
    await box.cleanup().catch(() => undefined);
    rmSync(files, { recursive: true, force: true });
  });
  const t0 = Date.now();
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  assert.ok(Date.now() - t0 < 30_000, 'start does not wait for a silent peer');
  assert.equal(await curl(box, `http://127.0.0.1:${localPort}/`), 'direct 127.0.0.1', 'the other backends serve');

  const backends = await backendList(box);
  assert.match(backends.find((b) => b.name === 'ovpn-cert')!.reason!, /line \d+: "up" is not allowed/);
  const auth = await waitFor('AUTH_FAILED', async () => {
    const now = await tunnel(box, 'ovpn-pass');
    return now?.state === 'down' && /AUTH_FAILED/.test(now.reason ?? '') && now;
  });
  assert.ok(auth);
  // OpenVPN's own line naming the cause reaches the tunnel, status, backend list and the log (not its closing "Please correct these errors").
  const missingCa = /openvpn: Options error: --ca fails with 'missing-ca\.crt': No such file or directory/;
  await waitFor('the missing ca named', async () => missingCa.test((await tunnel(box, 'ovpn-noca'))?.reason ?? '') || undefined);
  assert.match((await backendList(box)).find((b) => b.name === 'ovpn-noca')!.reason!, missingCa);
  assert.match((await box.cli(['status'])).stdout, new RegExp(`\\novpn-noca +openvpn .*${missingCa.source}`));
  assert.match(readFileSync(resolve(box.dir, 'state', 'server', 'daemon.log'), 'utf8'), new RegExp(`tunnel "ovpn-noca" \\(openvpn\\) down: ${missingCa.source}`));
  const quiet = await waitFor('the silent peer marked down', async () => {
    const now = await tunnel(box, 'wg');
    return now?.state === 'down' && now;
  }, 30_000);
  assert.match(quiet.reason!, /no handshake/);
  assert.match(await curl(box, `http://${wg.WG_DNS_NAME}/ip`), /tunnel is down: no handshake|502|unavailable|^$/);
});

const noCapsSkip =
  process.platform !== 'linux' ? 'Linux only' : process.getuid?.() !== 0 ? 'needs root, to drop the capabilities' : !findProgram('setpriv') ? 'no setpriv here (util-linux)' : false;

test('without CAP_NET_ADMIN and CAP_SYS_ADMIN, tunnel backends fail with the reason while the others serve', { skip: noCapsSkip, timeout: 60_000 }, async (t) => {
  const key = (): string => Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString('base64');
  const files = mkdtempSync(join(tmpdir(), 'sp-tunnel-files-'));
  const conf = join(files, 'wg0.conf');
  writeFileSync(conf, `[Interface]\nPrivateKey = ${key()}\nAddress = 10.99.0.2/32\n\n[Peer]\nPublicKey = ${key()}\nEndpoint = 127.0.0.1:51820\nAllowedIPs = 10.99.0.0/24\n`, { mode: 0o600 });
  const origin = createServer((req, res) => res.end(`direct ${req.socket.remoteAddress}`));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const port = (origin.address() as { port: number }).port;
  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n${TRUSTED_LOOPBACK_YAML}backends:\n  - name: direct\n    type: direct\n  - name: vpn\n    type: wireguard\n    wireguard:\n      config_file: "${conf}"\nrules:\n  - name: vpn\n    match:\n      domains: ["vpn.example"]\n    backend: vpn\n  - name: Default\n    match:\n      domains: ["*"]\n    backend: direct\n`);
  t.after(async () => {
    await box.cleanup().catch(() => undefined);
    origin.close();
    rmSync(files, { recursive: true, force: true });
  });
  // Root with both capabilities out of its bounding set: what a daemon started by an ordinary user has.
  const started = await new Promise<{ code: number | null; out: string }>((done) => {
    execFile('setpriv', ['--bounding-set', '-net_admin,-sys_admin', '--', process.execPath, resolve(import.meta.dirname, '../../bin/simple-proxy-server.js'), 'start'], { env: box.env, cwd: box.dir, timeout: 60_000 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
  assert.equal(started.code, 0, started.out);
  const reason = 'wireguard backends need root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces and tunnel interfaces; start the daemon as root';
  assert.ok(started.out.includes(`backend "vpn" is unavailable: ${reason}`), started.out);
  const vpn = (await backendList(box)).find((b) => b.name === 'vpn')!;
  assert.deepEqual([vpn.status, vpn.reason], ['unavailable', reason]);
  assert.deepEqual(await tunnels(box), [], 'no tunnel was tried');
  assert.equal(await curl(box, `http://127.0.0.1:${port}/`), 'direct 127.0.0.1', 'the other backends serve');
  assert.match(await curl(box, 'http://vpn.example/'), /wireguard backends need root/);
});
