import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { background, httpPort, okOrigin, sandbox, type Sandbox } from './cli-harness.js';
import { hashPassword } from '../../src/auth/native-provider.js';
import { haproxyUnavailable, startHaproxy } from '../helpers/haproxy.js';
import { freePort } from '../helpers/ports.js';
import { hasRedis, startRedis } from '../helpers/redis.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const skip = haproxyUnavailable() ?? (hasRedis ? false : 'redis-server is not installed (Debian: redis-server)');

const BURST = 4;

/** One node of the fleet: its own health port, the shared Redis, and (when `limited`) a per-IP request rate. */
function nodeConfig(healthPort: number, redisPort: number, prefix: string, limited: boolean): string {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 1
  proxy_protocol: { enabled: true, trusted: ["127.0.0.1"] }
${TRUSTED_LOOPBACK_YAML}metrics:
  enabled: true
  port: ${healthPort}
state:
  store: redis
  redis: { url: "redis://127.0.0.1:${redisPort}/0", key_prefix: "${prefix}" }
${limited ? `rate_limiting:\n  enabled: true\n  per_ip: { requests_per_second: 1, burst: ${BURST} }\n` : ''}shutdown:
  accept_grace: "2s"
  drain_timeout: "5s"
  force_timeout: "10s"
`;
}

/** Waits until a node's metrics say its limits are shared through Redis. */
async function sharedStateUp(healthPort: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    // From 127.0.0.2: the balancer's address (127.0.0.1) must send a PROXY header.
    last = (await background('curl', ['-s', '--max-time', '5', '--interface', '127.0.0.2', `http://127.0.0.1:${healthPort}/metrics`]).done).stdout;
    if (/^proxy_shared_state_up\{store="redis"\} 1$/m.test(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node on ${healthPort} never shared its limits through Redis: ${last.split('\n').filter((l) => l.includes('shared_state')).join(' ')}`);
}

// Two daemons behind a real HAProxy (round robin, PROXY v2, /health/ready checks) sharing a real Redis.
test('a fleet behind HAProxy: a per-IP rate limit holds across both nodes; a stopped node drains with no failed request', { skip, timeout: 180_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const prefix = `fleet-${process.pid}`;
  const nodes: { box: Sandbox; health: number; port: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const health = await freePort();
    const box = sandbox(nodeConfig(health, redis.port, prefix, true));
    t.after(() => box.cleanup());
    const started = await box.cli(['start']);
    assert.equal(started.code, 0, started.stderr);
    nodes.push({ box, health, port: httpPort(await box.status()) });
  }
  // An engine connects to Redis on its first limited request (checking locally until then): one
  // request from another loopback address to each node, then wait until both share.
  for (const node of nodes) {
    const warm = await background('curl', ['-s', '--max-time', '20', '--interface', '127.0.0.2', '-x', `http://127.0.0.1:${node.port}`, `http://127.0.0.1:${origin.port}/warm`]).done;
    assert.equal(warm.stdout, 'ok /warm');
    await sharedStateUp(node.health);
  }
  const balancer = await startHaproxy(
    nodes.map((n) => ({ port: n.port, healthPort: n.health })),
    { sendProxy: 'v2' },
  );
  // Through the balancer (127.0.0.1, which sends PROXY v2) from one client address.
  const viaBalancer = async (path: string): Promise<string> =>
    (await background('curl', ['-s', '--max-time', '20', '-w', ' %{http_code}', '--interface', '127.0.0.51', '-x', `http://127.0.0.1:${balancer.port}`, `http://127.0.0.1:${origin.port}${path}`]).done).stdout;
  t.after(() => balancer.stop());

  // Each request a new connection, so round robin alternates between the nodes.
  const began = Date.now();
  const answers: string[] = [];
  for (let i = 0; i < 16; i++) answers.push((await viaBalancer(`/r${i}`)).slice(-3));
  const seconds = (Date.now() - began) / 1000;
  const admitted = answers.filter((a) => a === '200').length;
  t.diagnostic(`${admitted} of ${answers.length} admitted in ${seconds.toFixed(1)} s (burst ${BURST}, 1/s)`);
  assert.deepEqual(new Set(answers), new Set(['200', '429']), answers.join(' '));
  // Another client behind the same balancer has its own bucket: the nodes see the client, not HAProxy.
  const other = await background('curl', ['-s', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.52', '-x', `http://127.0.0.1:${balancer.port}`, `http://127.0.0.1:${origin.port}/other`]).done;
  assert.equal(other.stdout, '200');
  // One bucket for the client across the fleet: the burst plus what refilled while the test ran
  // (two unshared buckets would admit twice the burst).
  assert.ok(admitted <= BURST + Math.ceil(seconds) && admitted < 2 * BURST, `${admitted} admitted in ${seconds.toFixed(1)} s: ${answers.join(' ')}`);

  // Without the limit: node 0 stops while requests keep coming; HAProxy sends them all to node 1.
  for (const node of nodes) {
    writeFileSync(node.box.config, nodeConfig(node.health, redis.port, prefix, false));
    const reloaded = await node.box.cli(['config', 'reload']);
    assert.equal(reloaded.code, 0, reloaded.stderr);
  }
  const during: string[] = [];
  let stopping: Promise<unknown> | null = null;
  for (let i = 0; i < 30; i++) {
    if (i === 8) stopping = nodes[0].box.cli(['stop']);
    during.push(await viaBalancer(`/d${i}`));
  }
  const stopped = (await stopping) as { code: number; stderr: string };
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.deepEqual(
    during.filter((a) => !a.endsWith(' 200')),
    [],
    'no request failed while the node stopped',
  );
});

const noCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ? null : 'docker-compose is not installed (Debian: docker-compose)';

test('examples/fleet: the compose file, the HAProxy config and the node config are valid', { skip: haproxyUnavailable() ?? noCompose ?? false }, async () => {
  const root = join(import.meta.dirname, '../..');
  const composeOk = spawnSync('docker-compose', ['-f', join(root, 'examples/fleet/compose.yaml'), 'config', '--services'], { encoding: 'utf8' });
  assert.equal(composeOk.status, 0, composeOk.stderr);
  assert.deepEqual(composeOk.stdout.trim().split('\n').sort(), ['haproxy', 'node-a', 'node-b', 'redis']);
  const haproxy = spawnSync('haproxy', ['-c', '-f', join(root, 'examples/fleet/haproxy.cfg')], { encoding: 'utf8' });
  assert.equal(haproxy.status, 0, haproxy.stderr);
  const box = sandbox('');
  try {
    const validated = await box.cli(['config', 'validate', '--config', join(root, 'examples/fleet/node-config.yaml')]);
    assert.equal(validated.code, 0, validated.stderr);
  } finally {
    await box.cleanup();
  }
});

/** A node that caps each client at `perIp` connections and locks an address out after 3 failed logins, sharing both through Redis. */
function guardedNodeConfig(healthPort: number, redisPort: number, prefix: string, passwordHash: string, perIp: number): string {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 1
  proxy_protocol: { enabled: true, trusted: ["127.0.0.1"] }
  auth:
    mode: native
    failed_attempts: { max: 3, window: "60s" }
    native:
      users:
        - { username: ann, password_hash: "${passwordHash}" }
${TRUSTED_LOOPBACK_YAML}network:
  limits: { max_connections_per_ip: ${perIp} }
metrics:
  enabled: true
  port: ${healthPort}
state:
  store: redis
  redis: { url: "redis://127.0.0.1:${redisPort}/0", key_prefix: "${prefix}" }
`;
}

/** A node's value of a metric without labels (NaN when it has none). */
async function metric(healthPort: number, name: string): Promise<number> {
  const text = (await background('curl', ['-s', '--max-time', '5', '--interface', '127.0.0.2', `http://127.0.0.1:${healthPort}/metrics`]).done).stdout;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** Opens a CONNECT tunnel through `proxyPort` from `localAddress` with ann's credentials; the status answered and the socket (left open). */
async function holdTunnel(proxyPort: number, targetPort: number, localAddress: string): Promise<{ status: number; socket: Socket }> {
  const socket = connect({ port: proxyPort, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const credentials = Buffer.from('ann:right-Secret-1').toString('base64');
  socket.write(`CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nHost: 127.0.0.1:${targetPort}\r\nProxy-Authorization: Basic ${credentials}\r\n\r\n`);
  const reply = await Promise.race([once(socket, 'data').then(([chunk]) => String(chunk)), once(socket, 'close').then(() => '')]);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0), socket };
}

// Two daemons behind HAProxy sharing a real Redis: connection counts and lockouts hold for the fleet.
test('a fleet behind HAProxy: max_connections_per_ip holds across both nodes, and a lockout made on one node holds on the other', { skip, timeout: 180_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const held: Socket[] = [];
  t.after(() => held.forEach((s) => s.destroy()));
  const passwordHash = await hashPassword('right-Secret-1');
  const prefix = `fleet-guard-${process.pid}`;
  const nodes: { box: Sandbox; health: number; port: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const health = await freePort();
    const box = sandbox(guardedNodeConfig(health, redis.port, prefix, passwordHash, 2));
    t.after(() => box.cleanup());
    const started = await box.cli(['start']);
    assert.equal(started.code, 0, started.stderr);
    nodes.push({ box, health, port: httpPort(await box.status()) });
  }
  // A node joins the fleet with its first client: one request each, then both share.
  for (const node of nodes) {
    const warm = await background('curl', ['-s', '--max-time', '20', '--interface', '127.0.0.2', '-U', 'ann:right-Secret-1', '-x', `http://127.0.0.1:${node.port}`, `http://127.0.0.1:${origin.port}/warm`]).done;
    assert.equal(warm.stdout, 'ok /warm');
  }
  for (const node of nodes) await sharedStateUp(node.health);
  const balancer = await startHaproxy(
    nodes.map((n) => ({ port: n.port, healthPort: n.health })),
    { sendProxy: 'v2' },
  );
  t.after(() => balancer.stop());
  // Settled: each node has read what the other holds (the two figures add up to the tunnels open).
  const settled = async (open: number): Promise<void> => {
    const deadline = Date.now() + 20_000;
    let seen: number[] = [];
    while (Date.now() < deadline) {
      seen = await Promise.all(nodes.map((n) => metric(n.health, 'proxy_fleet_connections_elsewhere')));
      if (seen[0] + seen[1] === open) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the nodes never read each other's ${open} open tunnels: ${seen.join('/')}`);
  };
  await settled(0);

  // Round robin: the tunnels of one client alternate between the nodes; the cap of 2 is the fleet's.
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { status, socket } = await holdTunnel(balancer.port, origin.port, '127.0.0.51');
    held.push(socket);
    statuses.push(status);
    await settled(statuses.filter((s) => s === 200).length);
  }
  assert.deepEqual(statuses, [200, 200, 503, 503]);
  // Another client behind the same balancer has its own count.
  const other = await holdTunnel(balancer.port, origin.port, '127.0.0.52');
  held.push(other.socket);
  assert.equal(other.status, 200);

  // Three wrong passwords from one client, spread over both nodes by round robin: the fleet locks the address out.
  const viaBalancer = async (user: string): Promise<string> =>
    (await background('curl', ['-s', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.53', '-U', user, '-x', `http://127.0.0.1:${balancer.port}`, `http://127.0.0.1:${origin.port}/`]).done).stdout;
  const failed: string[] = [];
  for (let i = 0; i < 3; i++) failed.push(await viaBalancer('ann:wrong-Secret'));
  assert.deepEqual(failed, ['407', '407', '407']);
  // Both nodes now refuse even the right password from that address (each asked in turn).
  const deadline = Date.now() + 20_000;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = [await viaBalancer('ann:right-Secret-1'), await viaBalancer('ann:right-Secret-1')];
    if (last.every((code) => code === '429')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(last, ['429', '429'], 'both nodes refuse the locked-out address');
  // The lockout is the address's: another client behind the balancer still gets in.
  const fine = await background('curl', ['-s', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.54', '-U', 'ann:right-Secret-1', '-x', `http://127.0.0.1:${balancer.port}`, `http://127.0.0.1:${origin.port}/`]).done;
  assert.equal(fine.stdout, '200');
});
