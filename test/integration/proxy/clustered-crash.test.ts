import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { until } from '../health/pool-fixture.js';
import { origin } from '../policy/policy-fixture.js';
import { snapshot } from './engine-fixture.js';

const TUNNELS = 200;

/** Opens a CONNECT tunnel from `localAddress` and waits for the proxy's 200. */
async function tunnel(proxyPort: number, targetPort: number, localAddress: string): Promise<Socket> {
  const socket = connect({ port: proxyPort, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nHost: 127.0.0.1:${targetPort}\r\n\r\n`);
  const [reply] = (await once(socket, 'data')) as [Buffer];
  assert.match(String(reply), /^HTTP\/1\.1 200/);
  return socket;
}

test(`a worker crash cuts about its share of ${TUNNELS} tunnels from as many clients, says how many, and is replaced`, { timeout: 90_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const base = snapshot();
  // On the shared sockets: each worker takes one connection per accept (UV_TCP_SINGLE_ACCEPT), so a burst of clients spreads over both.
  const engine = new ClusteredEngine(snapshot(undefined, undefined, { network: { ...base.network, limits: { ...base.network.limits, maxConnectionsPerBackend: 0 } } }), 2);
  const warnings: string[] = [];
  engine.on('warning', (w) => warnings.push(w));
  const port = (await engine.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => engine.stop({ drainMs: 0 }));

  const clients = Array.from({ length: TUNNELS }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < TUNNELS; i += 20) sockets.push(...(await Promise.all(clients.slice(i, i + 20).map((c) => tunnel(port, site.port, c)))));
  let closed = 0;
  for (const socket of sockets) socket.once('close', () => closed++);
  await until(async () => (await engine.stats()).connectionsActive === TUNNELS, 10_000, 'every tunnel counted');

  const victim = Object.values(cluster.workers ?? {})[0]!;
  victim.process.kill('SIGKILL');
  await until(() => warnings.some((w) => /was killed/.test(w)), 10_000, 'the crash logged');
  const line = warnings.find((w) => /was killed/.test(w))!;
  const cut = Number(/cutting (\d+) client connections/.exec(line)?.[1]);
  console.log(line);
  assert.match(line, new RegExp(`^engine worker ${victim.process.pid} was killed \\(SIGKILL\\), cutting \\d+ client connections; starting a replacement$`));
  // The kernel's spread over the workers' accepts is uneven (81 to 109 of 200 seen); a worker over its share passes the excess to the one with the fewest.
  assert.ok(Math.abs(cut - TUNNELS / 2) <= TUNNELS / 20, `one crash cut ${cut} of ${TUNNELS} (its share: ${TUNNELS / 2} ± 10 %)`);
  await until(() => closed === cut, 10_000, `${cut} tunnels closed`);

  // A live stream that starts while the replacement is still starting is ready once it is (the
  // replacement is told what to send when it is up, not before, when the message would be lost).
  cluster.once('fork', () => engine.on('limit:hit', () => undefined));
  // The clients the crash cut are served again, by the replacement once it is up.
  const cutClient = clients[sockets.findIndex((s) => s.destroyed)];
  await until(() => warnings.length === 1 && Object.keys(cluster.workers ?? {}).length === 2, 15_000, 'a replacement worker');
  let ready = false;
  void engine.eventsReady().then(() => (ready = true));
  await until(() => ready, 15_000, 'the events of every worker, the replacement included');
  sockets.push(await tunnel(port, site.port, cutClient));
});

test('stop right after a worker crash on the shared sockets resolves while the replacement starts', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const engine = new ClusteredEngine(snapshot(), 2);
  const warnings: string[] = [];
  engine.on('warning', (w) => warnings.push(w));
  const port = (await engine.start()).find((l) => l.kind === 'http')!.port;
  const sockets = await Promise.all(Array.from({ length: 10 }, () => tunnel(port, site.port, '127.0.0.1')));
  t.after(() => sockets.forEach((s) => s.destroy()));
  // Stop while the replacement starts: a message sent to it before it listens is lost, so it must not be waited for.
  const forked = once(cluster, 'fork');
  Object.values(cluster.workers ?? {})[0]!.process.kill('SIGKILL');
  await until(() => warnings.some((w) => /was killed/.test(w)), 15_000, 'the crash logged');
  await forked;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('hung'), 20_000)));
  const outcome = await Promise.race([engine.stop({ drainMs: 0 }).then(() => 'stopped'), deadline]);
  clearTimeout(timer);
  assert.equal(outcome, 'stopped', 'stop resolves within 20 s after a crash');
});
