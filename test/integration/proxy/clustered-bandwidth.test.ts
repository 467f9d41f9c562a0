import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { METRICS_ON, origin } from '../policy/policy-fixture.js';
import { perWorker, tunnel } from './cluster-fixture.js';
import { snapshot } from './engine-fixture.js';

const PROCESSES = 2;
const MB = 1_000_000;
/** How long each client downloads. */
const SECONDS = 3;

/** Opens tunnels from `client` until every worker got one (the kernel's spread is uneven under load: a deadline, not a count). */
async function tunnelsOnEveryWorker(engine: ClusteredEngine, port: number, sitePort: number, client: string): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const before = await perWorker(engine, 'proxy_connections_active');
  const deadline = performance.now() + 20_000;
  for (;;) {
    const { status, socket } = await tunnel(port, sitePort, client);
    assert.equal(status, 200, `${client}: tunnel ${sockets.length + 1}`);
    sockets.push(socket);
    // This client's tunnels per worker: the ones open now less those open before.
    const landed = (await perWorker(engine, 'proxy_connections_active')).map((n, i) => n - before[i]);
    if (landed.length === PROCESSES && landed.every((n) => n > 0)) return sockets;
    assert.ok(performance.now() < deadline, `${client}: tunnels on every worker within 20 s (${landed.join('/')})`);
  }
}

/** Downloads through every tunnel at once; resolves with the bytes per second they got together over SECONDS, after the first second (the bucket's burst and the first leases). */
async function download(sockets: Socket[], sitePort: number): Promise<number> {
  let bytes = 0;
  for (const socket of sockets) {
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.write(`GET /?bytes=${64 * MB} HTTP/1.1\r\nHost: 127.0.0.1:${sitePort}\r\nConnection: close\r\n\r\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const [started, from] = [performance.now(), bytes];
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const rate = (bytes - from) / ((performance.now() - started) / 1000);
  for (const socket of sockets) socket.destroy();
  return rate;
}

/** A clustered engine with these bandwidth limits (Mbit/s); resolves with its HTTP port and the rates two clients got at once, each over tunnels on every worker. */
async function twoClients(t: TestContext, limits: Record<string, number>): Promise<number[]> {
  const site = await origin();
  t.after(() => site.server.close());
  const raw = { rate_limiting: { enabled: true, bandwidth: { enabled: true, max_mbps_per_connection: 0, max_mbps_per_ip: 0, max_mbps_total: 0, ...limits } } };
  const engine = new ClusteredEngine(snapshot(undefined, undefined, { raw, metrics: METRICS_ON }), PROCESSES);
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const port = bound.find((l) => l.kind === 'http')!.port;
  const clients = ['127.0.0.1', '127.0.0.2'];
  const tunnels: Socket[][] = [];
  for (const client of clients) tunnels.push(await tunnelsOnEveryWorker(engine, port, site.port, client));
  const rates = await Promise.all(tunnels.map((sockets) => download(sockets, site.port)));
  rates.forEach((rate, i) => t.diagnostic(`${clients[i]}: ${(rate / MB).toFixed(3)} MB/s over ${tunnels[i].length} tunnels on ${PROCESSES} workers`));
  return rates;
}

/**
 * Whether `rate` holds to `limit` (both bytes/s): at most 10 % over it, and at least 60 % of it.
 * Over is what a limit must never be; under only says the machine was busy (a loaded round once
 * moved 82 % of the limit), unless far under, which a lease that never came would give.
 */
function near(rate: number, limit: number, what: string): void {
  const shown = `${what}: ${(rate / MB).toFixed(2)} MB/s vs ${(limit / MB).toFixed(2)} MB/s`;
  assert.ok(rate <= limit * 1.1, `over the limit: ${shown}`);
  assert.ok(rate >= limit * 0.6, `far under the limit: ${shown}`);
}

test(`${PROCESSES} engine processes on shared sockets: max_mbps_per_ip holds for one client over every worker, and another client gets its own`, { timeout: 90_000 }, async (t) => {
  // Both clients at once: each gets its own limit, whatever the other does; a bucket per worker would give each twice the limit.
  const rates = await twoClients(t, { max_mbps_per_ip: 64 });
  rates.forEach((rate, i) => near(rate, (64 * MB) / 8, `client ${i + 1}`));
});

test(`${PROCESSES} engine processes on shared sockets: max_mbps_total holds over every worker for all clients together`, { timeout: 90_000 }, async (t) => {
  // A bucket per worker would give the two clients twice the limit together.
  const rates = await twoClients(t, { max_mbps_total: 64 });
  near(rates[0] + rates[1], (64 * MB) / 8, 'both clients');
});
