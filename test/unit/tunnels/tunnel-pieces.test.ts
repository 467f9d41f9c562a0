import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tunnelNames } from '../../../src/tunnels/tunnel-names.js';
import { stripWgQuick } from '../../../src/tunnels/wireguard-tunnel.js';
import { fatalReason, openvpnProfileProblem } from '../../../src/tunnels/openvpn-tunnel.js';
import { StatusReader, writeStatusFile, type TunnelStatus } from '../../../src/tunnels/tunnel-status.js';
import { findProgram, programDirs, tunnelSupportProblem } from '../../../src/tunnels/host-support.js';

const dir = mkdtempSync(join(tmpdir(), 'sp-tunnels-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('names: stable per state dir and backend, distinct across daemons, interface names fit in 15 characters', () => {
  const a = tunnelNames('/var/lib/simple-proxy/server');
  const b = tunnelNames('/tmp/other/server');
  assert.equal(a.netns('germany'), tunnelNames('/var/lib/simple-proxy/server').netns('germany'));
  assert.notEqual(a.netns('germany'), a.netns('japan'));
  assert.notEqual(a.netns('germany'), b.netns('germany'));
  assert.ok(a.netns('germany').startsWith(a.netnsPrefix));
  assert.ok(a.iface('a backend with a very long name').startsWith(a.ifacePrefix));
  assert.ok(a.iface('a backend with a very long name').length <= 15);
});

test('stripWgQuick drops exactly the fields wg setconf rejects', () => {
  const text = '[Interface]\nPrivateKey = k\nAddress = 10.0.0.2/32\nDNS = 1.1.1.1\nmtu=1380\nPostUp = evil\n\n[Peer]\nPublicKey = p\nAllowedIPs = 0.0.0.0/0\nEndpoint = h:1\n';
  assert.equal(stripWgQuick(text), '[Interface]\nPrivateKey = k\n\n[Peer]\nPublicKey = p\nAllowedIPs = 0.0.0.0/0\nEndpoint = h:1\n');
});

test('openvpn profiles: scripts are refused with their line, credentials must match what the profile asks', () => {
  const profile = (extra: string): string => {
    const file = join(dir, `p${Math.random()}.ovpn`);
    writeFileSync(file, `client\ndev tun\nremote vpn.example.com 1194\n${extra}`);
    return file;
  };
  const scripted = profile('up /bin/evil\n');
  assert.equal(openvpnProfileProblem(scripted, {}), `${scripted}: line 4: "up" is not allowed: it runs a script as root; the daemon sets the tunnel up itself`);
  const asks = profile('auth-user-pass\n');
  assert.match(openvpnProfileProblem(asks, {})!, /line 4: the profile asks for a username and password/);
  assert.equal(openvpnProfileProblem(asks, { auth: { username: 'u', password: 'p' } }), null);
  const authFile = join(dir, 'auth.txt');
  writeFileSync(authFile, 'only-a-user');
  assert.match(openvpnProfileProblem(asks, { authFile })!, /line 2: expected the username on line 1 and the password on line 2/);
  assert.match(openvpnProfileProblem(asks, { authFile: join(dir, 'none.txt') })!, /cannot be read \(ENOENT\)/);
  assert.equal(openvpnProfileProblem(profile('dev-type tun\n'), {}), null);
  assert.match(openvpnProfileProblem(profile('remote\n'), {})!, /line 4: "remote" needs a host/);
});

test('status files: written atomically, re-read only when they change', () => {
  const file = join(dir, 'status.json');
  const reader = new StatusReader(file);
  assert.equal(reader.read(), null);
  const status: TunnelStatus = { name: 'wg', type: 'wireguard', state: 'starting', since: 1, netns: 'ns', iface: 'if', dns: [], addresses: [], restarts: 0 };
  writeStatusFile(file, status);
  assert.equal(reader.read()?.state, 'starting');
  writeStatusFile(file, { ...status, state: 'up', dns: ['10.0.0.1'] });
  assert.deepEqual([reader.read()?.state, reader.read()?.dns], ['up', ['10.0.0.1']]);
});

test('findProgram looks in PATH and the sbin dirs', () => {
  assert.ok(findProgram('sh', programDirs({ PATH: '' })));
  assert.equal(findProgram('no-such-program-here', programDirs({ PATH: '' })), null);
});

const ALL_CAPS = (1n << 12n) | (1n << 21n);
const onLinuxWithTun = process.platform === 'linux' && existsSync('/dev/net/tun') ? false : 'needs Linux with /dev/net/tun';

/** A dir holding executable stand-ins for `names` (only their presence is looked at). */
function programsDir(names: string[]): string {
  const bin = mkdtempSync(join(dir, 'bin-'));
  for (const name of names) writeFileSync(join(bin, name), '#!/bin/sh\n', { mode: 0o755 });
  return bin;
}

test('without root the tunnel backends are refused, naming the missing capabilities', { skip: process.platform === 'linux' ? false : 'Linux only' }, () => {
  const dirs = [programsDir(['ip', 'wireguard-go', 'wg', 'openvpn'])];
  assert.equal(
    tunnelSupportProblem('wireguard', { dirs, capabilities: 0n }),
    'wireguard backends need root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces and tunnel interfaces; start the daemon as root',
  );
  assert.match(tunnelSupportProblem('openvpn', { dirs, capabilities: 1n << 12n })!, /^openvpn backends need root \(CAP_SYS_ADMIN\) /);
});

test('a missing program is named with the Debian package that provides it', { skip: onLinuxWithTun }, () => {
  assert.equal(tunnelSupportProblem('wireguard', { dirs: [], capabilities: ALL_CAPS }), 'wireguard backends need "ip", which is not installed (Debian package iproute2)');
  const some = [programsDir(['ip', 'wg'])];
  assert.equal(tunnelSupportProblem('wireguard', { dirs: some, capabilities: ALL_CAPS }), 'wireguard backends need "wireguard-go", which is not installed (Debian package wireguard-go)');
  assert.equal(tunnelSupportProblem('openvpn', { dirs: some, capabilities: ALL_CAPS }), 'openvpn backends need "openvpn", which is not installed (Debian package openvpn)');
  assert.equal(tunnelSupportProblem('wireguard', { dirs: [programsDir(['ip', 'wireguard-go'])], capabilities: ALL_CAPS }), 'wireguard backends need "wg", which is not installed (Debian package wireguard-tools)');
  const notExecutable = programsDir(['ip', 'wireguard-go']);
  writeFileSync(join(notExecutable, 'wg'), '', { mode: 0o644 });
  assert.match(tunnelSupportProblem('wireguard', { dirs: [notExecutable], capabilities: ALL_CAPS })!, /need "wg"/, 'a file without the execute bit is no program');
  assert.equal(tunnelSupportProblem('wireguard', { dirs: [programsDir(['ip', 'wireguard-go', 'wg'])], capabilities: ALL_CAPS }), null);
});

test('an OpenVPN run that fails on its profile is reported with openvpn\'s own line naming the cause, not its closing words', { skip: findProgram('openvpn') ? false : 'openvpn is not installed' }, () => {
  const failures = { 'missing ca': 'ca missing-ca.crt', 'unknown option': 'bogus-option 1' };
  const reasons: Record<string, string | null> = {};
  for (const [name, line] of Object.entries(failures)) {
    const profile = join(dir, `${name.replace(' ', '-')}.ovpn`);
    writeFileSync(profile, `client\ndev tun\nremote 127.0.0.1 1194\nauth-user-pass\n${line}\n`);
    // openvpn stops at the profile, before it needs root or the network.
    const run = spawnSync('openvpn', ['--config', profile, '--verb', '3'], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
    reasons[name] = `${run.stdout}${run.stderr}`.split('\n').reduce<string | null>(fatalReason, null);
  }
  assert.equal(reasons['missing ca'], "openvpn: Options error: --ca fails with 'missing-ca.crt': No such file or directory (errno=2)");
  assert.match(reasons['unknown option'] ?? '', /^openvpn: Options error: Unrecognized option or missing or extra parameter\(s\) in [^:]+:5: bogus-option/);
});
