import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TunnelBackend } from '../../../src/backends/tunnel-backend.js';
import { UnavailableBackend } from '../../../src/backends/unavailable-backend.js';
import { parseConfigText } from '../../../src/config/load.js';
import { probe } from '../../../src/health/probe.js';
import { addNetns, deleteNetns, ip } from '../../../src/tunnels/netns.js';
import { findProgram } from '../../../src/tunnels/host-support.js';
import { writeStatusFile, type TunnelStatus } from '../../../src/tunnels/tunnel-status.js';

/*
 * Checks of a tunnel backend run inside the tunnel's network namespace. A namespace of our own
 * stands in for the tunnel's: it holds an address nothing on the host has, so only a ping sent
 * from inside it is answered, and a route that silently drops what is sent to another.
 */
const skip = process.getuid?.() !== 0 ? 'network namespaces need root; CI runs as root' : !findProgram('ping') ? 'no ping (Debian: iputils-ping)' : false;
const INSIDE = '10.254.77.1';
const DROPPED = '10.254.78.1';
const defaults = parseConfigText('backends:\n  - { name: direct, type: direct }\nrules: []\n', 'server-config.yaml', 'server').network;
const network = { ...defaults, timeouts: { ...defaults.timeouts, connectMs: 20_000 } };

test('checks of a tunnel backend: ping goes out from the tunnel namespace, http keeps its timeout while the dial hangs, both fail with the reason while the tunnel is down', { skip, timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-tunnel-ping-'));
  const netns = `tp-${process.pid}`;
  t.after(async () => {
    await deleteNetns(netns);
    rmSync(dir, { recursive: true, force: true });
  });
  await addNetns(netns);
  await ip(['-n', netns, 'addr', 'add', `${INSIDE}/32`, 'dev', 'lo']);
  // Sent out over lo to an address no one has, a SYN comes back in and is dropped: the connect hangs.
  await ip(['-n', netns, 'route', 'add', `${DROPPED}/32`, 'dev', 'lo']);
  const statusFile = join(dir, 'status.json');
  const status: TunnelStatus = { name: 'vpn', type: 'wireguard', state: 'up', since: Date.now(), netns, iface: 'lo', dns: [], addresses: [INSIDE], restarts: 0 };
  writeStatusFile(statusFile, status);
  const backend = new TunnelBackend('vpn', 'wireguard', { netns, statusFile }, network);
  t.after(() => backend.close());

  // A generous timeout: the probe ends at the reply, and a loaded machine can take seconds to start ping in the namespace.
  const answered = await probe(backend, { type: 'ping', target: { host: INSIDE, port: 0 }, timeoutMs: 15_000 });
  assert.equal(answered.ok, true, answered.error);
  const fromHost = spawnSync('ping', ['-n', '-c', '1', '-W', '1', INSIDE], { timeout: 5000 });
  assert.notEqual(fromHost.status, 0, 'the address answers only inside the namespace');

  const hung = await probe(backend, { type: 'http', target: { host: DROPPED, port: 80 }, timeoutMs: 500, http: { url: `http://${DROPPED}/health`, expectedStatus: 200 } });
  assert.equal(hung.ok, false);
  assert.equal(hung.error, `no answer from http://${DROPPED}/health within 500 ms`);
  // Ended by its own 500 ms timeout, long before the dial's 20 s connect timeout would have.
  assert.ok(hung.latencyMs < 10_000, `the check ended after ${hung.latencyMs} ms, not at its 500 ms timeout`);

  writeStatusFile(statusFile, { ...status, state: 'down', reason: 'no handshake for 180 s' });
  for (const type of ['ping', 'tcp'] as const) {
    const down = await probe(backend, { type, target: { host: INSIDE, port: 80 }, timeoutMs: 2000 });
    assert.equal(down.ok, false);
    assert.match(down.error!, /the tunnel is down: no handshake for 180 s/);
  }
});

test('a ping check of an unavailable tunnel backend fails with its reason and never pings from the host', async () => {
  const result = await probe(new UnavailableBackend('vpn', 'openvpn', 'openvpn backends need root'), { type: 'ping', target: { host: '127.0.0.1', port: 0 }, timeoutMs: 1000 });
  assert.equal(result.ok, false);
  assert.match(result.error!, /backend "vpn" \(openvpn\) is unavailable: openvpn backends need root/);
});
