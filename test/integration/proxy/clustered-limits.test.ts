import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { CONNECTION_LIMIT_DEFAULTS } from '../../../src/config/schema.js';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { curl, exchange, METRICS_ON, origin, socksConnect } from '../policy/policy-fixture.js';
import { until } from '../health/pool-fixture.js';
import { freePort } from '../../helpers/ports.js';
import { snapshot } from './engine-fixture.js';
import { perWorker, tunnel } from './cluster-fixture.js';

/** As many engine processes as the default (one per core) gives on a machine of two cores or more. */
const PROCESSES = 2;

async function start(t: { after(fn: () => Promise<unknown>): void }, raw: Record<string, unknown>, limits?: Partial<ReturnType<typeof snapshot>['network']['limits']>): Promise<{ engine: ClusteredEngine; port: number; socksPort: number; hits: LimitHit[] }> {
  const base = snapshot();
  // Metrics on: each worker's counters tell where connections landed.
  const engine = new ClusteredEngine(snapshot(undefined, undefined, { raw, metrics: METRICS_ON, network: { ...base.network, limits: { ...base.network.limits, ...limits } } }), PROCESSES);
  const hits: LimitHit[] = [];
  engine.on('limit:hit', (hit) => hits.push(hit));
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  return { engine, port: bound.find((l) => l.kind === 'http')!.port, socksPort: bound.find((l) => l.kind === 'socks5')!.port, hits };
}

test(`${PROCESSES} engine processes: per-IP rate and connection limits hold exactly for one client, and each client gets its own`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  // 0.2 requests/s: no token comes back during the test; a new connection per request.
  const { port } = await start(t, { rate_limiting: { enabled: true, per_ip: { requests_per_second: 0.2, burst: 6 } } }, { maxConnectionsPerIp: 3 });
  const codes = async (localAddress: string): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < 12; i++) out.push((await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '--interface', localAddress, '-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${site.port}/`])).stdout);
    return out;
  };
  for (const client of ['127.0.0.1', '127.0.0.2']) {
    const got = await codes(client);
    assert.deepEqual([got.filter((c) => c === '200').length, got.filter((c) => c === '429').length], [6, 6], `${client}: burst 6 of 12, then 429 (${got.join(' ')})`);
  }
});

test(`${PROCESSES} engine processes on shared sockets: max_connections_per_ip 3 lets exactly 3 tunnels open per client, wherever they land`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const { engine, port, socksPort, hits } = await start(t, {}, { maxConnectionsPerIp: 3 });
  const slots = (engine as unknown as { slots: { list: { active: number }[] } }).slots.list;
  const sockets: Socket[] = [];
  t.after(async () => sockets.forEach((s) => s.destroy()));
  // Each worker's open connections as its last report said (a stats request carries a waiting report first).
  const perWorker = async (): Promise<number[]> => {
    await engine.stats();
    return slots.map((s) => s.active);
  };
  for (const [index, client] of ['127.0.0.1', '127.0.0.2'].entries()) {
    // Three tunnels at once until they landed on both workers (each worker then holds a part of the cap).
    let spread: number[] = [];
    const mine: Socket[] = [];
    for (let attempt = 0; attempt < 20 && !(spread.length > 0 && spread.every((n) => n > 0)); attempt++) {
      mine.splice(0).forEach((s) => s.destroy());
      // The first client's three stay open while the second tries.
      await until(async () => (await engine.stats()).connectionsActive === 3 * index, 10_000, 'earlier tunnels closed');
      const before = await perWorker();
      const opened = await Promise.all([0, 1, 2].map(() => tunnel(port, site.port, client)));
      mine.push(...opened.map((o) => o.socket));
      sockets.push(...mine);
      assert.deepEqual(opened.map((o) => o.status), [200, 200, 200], `${client}: three tunnels under the cap`);
      spread = (await perWorker()).map((n, i) => n - before[i]);
    }
    assert.ok(spread.every((n) => n > 0), `${client}: tunnels on both workers (${spread.join('/')})`);
    // Over the cap on every worker, at once and one at a time.
    const more = await Promise.all([0, 1, 2].map(() => tunnel(port, site.port, client)));
    sockets.push(...more.map((o) => o.socket));
    const after = await tunnel(port, site.port, client);
    sockets.push(after.socket);
    assert.deepEqual([...more.map((o) => o.status), after.status], [503, 503, 503, 503], `${client}: the cap counts both workers (${spread.join('/')})`);
    // And both listeners: a SOCKS5 connection is answered 0x02 after its greeting.
    const { reply } = await exchange(socksPort, '127.0.0.1', socksConnect('127.0.0.1', site.port), { localAddress: client });
    assert.deepEqual([...reply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x02], `${client}: SOCKS5 refused`);
    t.diagnostic(`${client}: open per worker ${spread.join('/')}`);
  }
  await until(() => hits.filter((h) => h.scope === 'connections').length === 10, 10_000, 'ten connection-limit hits');
});

test(`${PROCESSES} engine processes on shared sockets: a reload that lowers max_connections_per_ip holds for new connections at once`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const { engine, port } = await start(t, {}, { maxConnectionsPerIp: 6 });
  const sockets: Socket[] = [];
  t.after(async () => sockets.forEach((s) => s.destroy()));
  const open = async (n: number): Promise<number[]> => {
    const opened = await Promise.all(Array.from({ length: n }, () => tunnel(port, site.port, '127.0.0.1')));
    sockets.push(...opened.map((o) => o.socket));
    return opened.map((o) => o.status);
  };
  assert.deepEqual(await open(5), [200, 200, 200, 200, 200]);
  const base = engine.snapshot;
  await engine.reload({ ...base, version: 'lower', network: { ...base.network, limits: { ...base.network.limits, maxConnectionsPerIp: 2 } } });
  assert.deepEqual(await open(2), [503, 503], 'five open against a cap of 2 now');
  // Down to one open: one more fits, then none.
  sockets.splice(0, 4).forEach((s) => s.destroy());
  await until(async () => (await engine.stats()).connectionsActive === 1, 10_000, 'four tunnels closed');
  assert.deepEqual(await open(1), [200]);
  assert.deepEqual(await open(2), [503, 503]);
});


test(`${PROCESSES} engine processes on shared sockets: per_ip 5/s gives each client 5 requests a second, whichever worker its connections reach`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const { engine, port } = await start(t, { rate_limiting: { enabled: true, per_ip: { requests_per_second: 5, burst: 1 } } }, { maxConnectionsPerIp: 0 });
  const seconds = 3;
  for (const client of ['127.0.0.1', '127.0.0.2']) {
    const before = await perWorker(engine, 'proxy_connections_total');
    // A new connection every 25 ms (8 a second over the rate), each landing on whichever worker accepts it.
    const statuses: Promise<number>[] = [];
    const started = performance.now();
    const landedNow = async (): Promise<number[]> => (await perWorker(engine, 'proxy_connections_total')).map((n, i) => n - before[i]);
    // Which worker accepts is the kernel's choice (on a loaded machine one may take nearly all): the
    // run goes on, up to 20 s, until every worker got more than the tolerance below (elapsed + 1)
    // plus 2, so a bucket per worker would pass that many more and fail the count.
    let spread = false;
    let checkedAt = 0;
    for (let elapsed = 0; elapsed < seconds || (!spread && elapsed < 20); elapsed = (performance.now() - started) / 1000) {
      statuses.push(tunnel(port, site.port, client).then(({ status, socket }) => (socket.destroy(), status)));
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (elapsed >= seconds && elapsed - checkedAt >= 0.5) {
        checkedAt = elapsed;
        spread = (await landedNow()).every((n) => n > elapsed + 3);
      }
    }
    const elapsed = (performance.now() - started) / 1000;
    const passed = (await Promise.all(statuses)).filter((s) => s === 200).length;
    const landed = await landedNow();
    t.diagnostic(`${client}: ${passed} passed in ${elapsed.toFixed(1)} s; connections per worker ${landed.join('/')}`);
    assert.ok(landed.length === PROCESSES && landed.every((n) => n > elapsed + 3), `${client}: connections on both workers, enough on each to tell (${landed.join('/')})`);
    // The burst (1) and 5 a second, ± 1 a second; a bucket per worker would give about twice that.
    const expected = 1 + 5 * elapsed;
    assert.ok(Math.abs(passed - expected) <= elapsed + 1, `${client}: ${passed} passed in ${elapsed.toFixed(1)} s, expected ${expected.toFixed(0)}`);
  }
});

test(`${PROCESSES} engine processes: global rate counts every client together (max_connections: see the next test)`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const { port, hits } = await start(t, { rate_limiting: { enabled: true, global: { requests_per_second: 0.2, burst: 4 } } }, { maxConnections: 5 });
  const clients = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 1}`);
  const codes: string[] = [];
  for (const client of clients) codes.push((await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '--interface', client, '-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${site.port}/`])).stdout);
  assert.equal(codes.filter((c) => c === '200').length, 4, `global burst 4 over ten clients (${codes.join(' ')})`);
  await until(() => hits.filter((h) => h.scope === 'global').length === 6, 10_000, 'six global rate-limit hits');

});

test(`${PROCESSES} engine processes without a per-client limit: the workers accept themselves and max_connections counts them all, within one burst`, { timeout: 60_000 }, async (t) => {
  // The default per-IP cap: connections land on whichever worker accepts first.
  const { engine, port } = await start(t, {}, { maxConnections: 5, maxConnectionsPerIp: 256 });
  // What the primary has told each worker the others have open (settled once every report is in).
  const slots = (engine as unknown as { slots: { list: { active: number; elsewhere: number }[] } }).slots.list;
  const settled = (open: number): boolean => slots.reduce((n, s) => n + s.active, 0) === open && slots.every((s) => s.elsewhere === open - s.active);
  const held: Socket[] = [];
  t.after(async () => held.forEach((s) => s.destroy()));
  const outcomes: string[] = [];
  for (let i = 0; i < 8; i++) {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    held.push(socket);
    await once(socket, 'connect');
    // An admitted idle connection stays open; one over the limit is answered 503 at once.
    let refused = false;
    socket.on('data', (chunk: Buffer) => void (refused ||= String(chunk).includes(' 503 ')));
    const open = outcomes.filter((o) => o === 'open').length;
    await until(async () => refused || (await engine.stats()).connectionsActive === open + 1, 10_000, 'admitted or refused');
    outcomes.push(refused ? 'refused' : 'open');
    const now = outcomes.filter((o) => o === 'open').length;
    await until(() => settled(now), 10_000, 'the workers told of each other');
    // Told is not yet applied: a stats round trip comes after the news on each worker's channel.
    await engine.stats();
  }
  console.log(slots.map((s) => s.active).join('/'));
  assert.deepEqual(outcomes, ['open', 'open', 'open', 'open', 'open', 'refused', 'refused', 'refused']);
});

test(`${PROCESSES} engine processes on shared sockets: the default max_connections_per_ip (256) counts one client's connections on every worker, exactly`, { timeout: 120_000 }, async (t) => {
  // A target that holds every tunnel open, silent.
  const held: Socket[] = [];
  const target = createServer((socket) => held.push(socket.on('error', () => undefined)));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  t.after(() => {
    held.forEach((s) => s.destroy());
    target.close();
  });
  const base = snapshot();
  const cap = CONNECTION_LIMIT_DEFAULTS.maxConnectionsPerIp;
  const config = snapshot(undefined, undefined, {
    listeners: [{ kind: 'http', host: '127.0.0.1', port: await freePort() }],
    network: { ...base.network, timeouts: { ...base.network.timeouts, idleMs: 120_000 }, limits: { maxConnections: 10_000, maxConnectionsPerIp: cap, maxConnectionsPerBackend: 0 } },
  });
  const engine = new ClusteredEngine(config, PROCESSES);
  const port = (await engine.start())[0].port;
  t.after(() => engine.stop({ drainMs: 0 }));
  const targetPort = (target.address() as AddressInfo).port;
  const slots = (engine as unknown as { slots: { list: { active: number }[] } }).slots.list;
  // Under the cap in all: every tunnel opens, in parallel.
  const first = cap - 6;
  const opened = await Promise.all(Array.from({ length: first }, () => tunnel(port, targetPort, '127.0.0.1')));
  held.push(...opened.map((o) => o.socket));
  assert.deepEqual(new Set(opened.map((o) => o.status)), new Set([200]));
  // One at a time: exactly the cap opens, wherever each lands (no settling: the workers lease the cap's slots).
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    const { status, socket } = await tunnel(port, targetPort, '127.0.0.1');
    held.push(socket);
    statuses.push(status);
  }
  await engine.stats();
  t.diagnostic(`open per worker: ${slots.map((s) => s.active).join('/')}`);
  assert.ok(slots.every((s) => s.active > 0), 'tunnels on every worker');
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 503, 503, 503, 503]);
  // Another client has its own count.
  const other = await tunnel(port, targetPort, '127.0.0.2');
  held.push(other.socket);
  assert.equal(other.status, 200);
});

test(`${PROCESSES} engine processes on shared sockets: max_connections_per_backend 3 lets 3 tunnels open to the backend in all, wherever they land`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const { engine, port, hits } = await start(t, {}, { maxConnectionsPerBackend: 3 });
  const slots = (engine as unknown as { slots: { list: { active: number }[] } }).slots.list;
  const sockets: Socket[] = [];
  t.after(async () => sockets.forEach((s) => s.destroy()));
  // A stats round trip carries each worker's waiting load report; a second one reaches every worker after what the daemon told it of the others.
  const settled = async (): Promise<number[]> => {
    await engine.stats();
    await engine.stats();
    return slots.map((s) => s.active);
  };
  // Three tunnels (from three clients, so no per-client cap plays a part) until they landed on both workers.
  let spread: number[] = [];
  for (let attempt = 0; attempt < 20 && !(spread.length > 0 && spread.every((n) => n > 0)); attempt++) {
    sockets.splice(0).forEach((s) => s.destroy());
    await until(async () => (await engine.stats()).connectionsActive === 0, 10_000, 'earlier tunnels closed');
    await settled();
    const opened = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((client) => tunnel(port, site.port, client)));
    sockets.push(...opened.map((o) => o.socket));
    assert.deepEqual(opened.map((o) => o.status), [200, 200, 200], 'three tunnels under the cap');
    spread = await settled();
  }
  assert.ok(spread.every((n) => n > 0), `tunnels on both workers (${spread.join('/')})`);
  // Past the cap on every worker: each new tunnel is refused, whichever worker takes it.
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const more = await tunnel(port, site.port, `127.0.0.${4 + i}`);
    sockets.push(more.socket);
    statuses.push(more.status);
  }
  const landed = await settled();
  t.diagnostic(`open per worker: ${spread.join('/')}, with the refused ones: ${landed.join('/')}`);
  assert.deepEqual(statuses, [503, 503, 503, 503, 503, 503], `the cap counts both workers (${spread.join('/')})`);
  await until(() => hits.filter((h) => h.scope === 'connections').length === 6, 10_000, 'six connection-limit hits');
  // One closes: one more opens.
  sockets.shift()!.destroy();
  await until(async () => (await engine.stats()).connectionsActive === 2, 10_000, 'one tunnel closed');
  await settled();
  const again = await tunnel(port, site.port, '127.0.0.20');
  sockets.push(again.socket);
  assert.equal(again.status, 200, 'a freed slot opens again');
});
