import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { METRICS_ON, scrape } from '../policy/policy-fixture.js';
import { snapshot, startEngine, type RunningEngine } from '../proxy/engine-fixture.js';
import { associate, hubOf, udpEcho, until, type Association, type UdpEcho } from './udp-fixture.js';

const udpConfig = (udp: Record<string, unknown>) => snapshot(undefined, undefined, { metrics: METRICS_ON, raw: { socks5: { udp } } });

/** Whether a UDP port on 127.0.0.1 can be bound now (its previous socket is closed). */
async function portFree(port: number): Promise<boolean> {
  const probe = createSocket('udp4');
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.bind(port, '127.0.0.1', () => (probe.close(), resolve(true)));
  });
}

/** Socket inodes of the UDP sockets bound to these local ports (Linux /proc/net/udp). */
function udpInodes(ports: number[]): Set<string> {
  const wanted = new Set(ports.map((p) => p.toString(16).toUpperCase().padStart(4, '0')));
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 9 && wanted.has(fields[1].split(':')[1])) inodes.add(fields[9]);
  }
  return inodes;
}

/** Socket inodes this process holds open. */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** A UDP echo server, an engine with metrics and UDP on defaults, and one association through it; all closed after the test. */
async function echoThroughEngine(t: TestContext): Promise<{ echo: UdpEcho; proxy: RunningEngine; association: Association }> {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const proxy = await startEngine(udpConfig({}));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  return { echo, proxy, association };
}

test('closing the control connection frees the relay socket and NAT entries at once; metrics count the association', { timeout: 60_000 }, async (t) => {
  const { echo, proxy, association } = await echoThroughEngine(t);
  association.send('127.0.0.1', echo.port, 'ping');
  await association.next();
  const hub = hubOf(proxy.engine);
  assert.equal(hub.active, 1);
  assert.equal(hub.flowCount, 1);
  assert.equal(await portFree(association.relay.port), false, 'the relay port is held while the association is open');
  let metrics = await scrape(proxy.engine);
  assert.equal(metrics.get('proxy_udp_associations_active'), 1);
  assert.equal(metrics.get('proxy_udp_flows_active'), 1);
  association.control.destroy();
  await until(() => hub.active === 0 && hub.flowCount === 0, 'the association to end');
  assert.equal(await portFree(association.relay.port), true, 'the relay port is free again');
  metrics = await scrape(proxy.engine);
  assert.equal(metrics.get('proxy_udp_associations_total'), 1);
  assert.equal(metrics.get('proxy_udp_associations_active'), 0);
  assert.equal(metrics.get('proxy_udp_datagrams_total{direction="in"}'), 1);
  assert.equal(metrics.get('proxy_udp_datagrams_total{direction="out"}'), 1);
  assert.equal(metrics.get('proxy_udp_bytes_total{direction="in"}'), 4);
  assert.equal(metrics.get('proxy_requests_total{backend="direct",method="UDP"}'), 1);
  assert.equal(proxy.records[0].error, undefined);
});

test('the idle timeout ends a silent association and closes its control connection; an idle NAT entry is dropped and made again', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const proxy = await startEngine(udpConfig({ idle_timeout: '1500ms', flow_idle_timeout: '200ms' }));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  let closed = false;
  association.control.once('close', () => (closed = true));
  association.send('127.0.0.1', echo.port, 'one');
  await association.next();
  const hub = hubOf(proxy.engine);
  await until(() => hub.flowCount === 0, 'the idle NAT entry to go');
  association.send('127.0.0.1', echo.port, 'two');
  await association.next();
  assert.notEqual(echo.seen[0].from, echo.seen[1].from, 'a new NAT entry has a new source port');
  await until(() => closed, 'the idle timeout to close the control connection');
  await until(() => proxy.records.length === 1, 'the record');
  assert.equal(proxy.records[0].error, 'idle-timeout');
  assert.equal(hub.active, 0);
});

test('NAT entries are capped per association, least recently used first', { timeout: 60_000 }, async (t) => {
  const echoes = await Promise.all([udpEcho('127.0.0.1'), udpEcho('127.0.0.1'), udpEcho('127.0.0.1')]);
  t.after(() => echoes.forEach((e) => e.close()));
  const proxy = await startEngine(udpConfig({ max_flows_per_association: 2 }));
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  for (const echo of echoes) {
    association.send('127.0.0.1', echo.port, 'x');
    await association.next();
  }
  assert.equal(hubOf(proxy.engine).flowCount, 2);
  // The first destination was evicted: it gets a new entry (a new source port) when used again.
  association.send('127.0.0.1', echoes[0].port, 'again');
  await association.next();
  assert.notEqual(echoes[0].seen[0].from, echoes[0].seen[1].from);
});

test('NAT entries are capped per process under socks5.udp.max_flows, least recently used first, whichever association holds them', { timeout: 60_000 }, async (t) => {
  const echoes = await Promise.all([udpEcho('127.0.0.1'), udpEcho('127.0.0.1'), udpEcho('127.0.0.1')]);
  t.after(() => echoes.forEach((e) => e.close()));
  const proxy = await startEngine(udpConfig({ max_flows: 2, max_flows_per_association: 16 }));
  t.after(() => proxy.stop());
  const first = await associate(proxy.socks.port);
  t.after(() => first.close());
  const second = await associate(proxy.socks.port);
  t.after(() => second.close());
  const exchange = (association: typeof first, echo: (typeof echoes)[number], data: string) => association.ask('127.0.0.1', echo.port, data, (r) => r.data === data);
  await exchange(first, echoes[0], 'a0');
  await exchange(first, echoes[1], 'a1');
  assert.equal(hubOf(proxy.engine).flowCount, 2);
  // A third entry, in another association: the oldest entry of the process (the first association's first) goes.
  await exchange(second, echoes[2], 'b2');
  assert.equal(hubOf(proxy.engine).flowCount, 2, 'the cap holds over all associations');
  const source = (echo: (typeof echoes)[number], data: string): string => echo.seen.find((s) => s.data === data)!.from;
  await exchange(first, echoes[1], 'a1-again');
  assert.equal(source(echoes[1], 'a1-again'), source(echoes[1], 'a1'), 'a recent entry is kept (same source port)');
  await exchange(first, echoes[0], 'a0-again');
  assert.notEqual(source(echoes[0], 'a0-again'), source(echoes[0], 'a0'), 'the least recently used entry was dropped and made again (a new source port)');
  assert.equal(hubOf(proxy.engine).flowCount, 2);
});

test('under engine workers each association relays on its own exclusively bound socket', { timeout: 90_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const engine = new ClusteredEngine(snapshot(), 2);
  const records: ConnectionRecord[] = [];
  engine.on('connection:end', (r) => records.push(r));
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const socks = bound.find((l) => l.kind === 'socks5')!;
  const associations = await Promise.all(Array.from({ length: 6 }, () => associate(socks.port)));
  t.after(() => associations.forEach((a) => a.close()));
  assert.equal(new Set(associations.map((a) => a.relay.port)).size, 6);
  // Bound exclusively in the worker: the primary (this process) holds none of the relay sockets.
  const relays = udpInodes(associations.map((a) => a.relay.port));
  assert.equal(relays.size, 6);
  const held = ownSocketInodes();
  assert.deepEqual([...relays].filter((inode) => held.has(inode)), []);
  for (const [i, association] of associations.entries()) {
    for (let n = 0; n < 5; n++) association.send('127.0.0.1', echo.port, `a${i}-${n}`);
    const got = await Promise.all(Array.from({ length: 5 }, () => association.next()));
    assert.deepEqual(got.map((g) => g.data).sort(), Array.from({ length: 5 }, (_, n) => `a${i}-${n}`));
  }
  associations.forEach((a) => a.control.destroy());
  await until(() => records.filter((r) => r.protocol === 'udp').length === 6, 'six association records at the primary', 15_000);
  assert.ok(records.every((r) => r.udp?.datagramsIn === 5 && r.udp.datagramsOut === 5));
});

test('a reload that removes the association\'s backend ends it after reload.drain_timeout', { timeout: 60_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const before = snapshot([{ name: 'old', type: 'direct' }], undefined, { reload: { drainTimeoutMs: 200 } });
  const proxy = await startEngine(before);
  t.after(() => proxy.stop());
  const association = await associate(proxy.socks.port);
  t.after(() => association.close());
  let closed = false;
  association.control.once('close', () => (closed = true));
  association.send('127.0.0.1', echo.port, 'before');
  assert.equal((await association.next()).data, 'before');
  await proxy.engine.reload(snapshot([{ name: 'new', type: 'direct' }], undefined, { reload: { drainTimeoutMs: 200 }, version: 'v2' }));
  await until(() => closed, 'the association to be closed');
  await until(() => proxy.records.length === 1, 'its record');
  assert.equal(proxy.records[0].error, 'backend-removed');
  assert.equal(hubOf(proxy.engine).active, 0);
});

test('an open association counts as datagrams pass: metrics, the connections list and the stats grow before it ends', { timeout: 60_000 }, async (t) => {
  const { echo, proxy, association } = await echoThroughEngine(t);
  const exchange = async (data: string): Promise<void> => {
    await association.ask('127.0.0.1', echo.port, data, (r) => r.data === data);
  };
  await exchange('one');
  let metrics = await scrape(proxy.engine);
  const inCount = metrics.get('proxy_udp_datagrams_total{direction="in"}') ?? 0;
  assert.ok(inCount >= 1, `a datagram in is counted while the association is open: ${inCount}`);
  assert.ok((metrics.get('proxy_udp_bytes_total{direction="out"}') ?? 0) >= 3);
  await exchange('two!');
  metrics = await scrape(proxy.engine);
  assert.ok((metrics.get('proxy_udp_datagrams_total{direction="in"}') ?? 0) > inCount, 'and grows with the next one');
  const [open] = (await proxy.engine.openConnections()).filter((r) => r.protocol === 'udp');
  assert.ok(open.udp!.datagramsIn >= 2 && open.udp!.datagramsOut >= 2 && open.bytesIn >= 7, `the open association's counters: ${JSON.stringify(open)}`);
  const { udp } = await proxy.engine.stats();
  assert.equal(udp.associationsActive, 1);
  assert.ok(udp.datagramsIn >= 2 && udp.datagramsOut >= 2 && udp.bytesIn >= 7, `stats count the open association: ${JSON.stringify(udp)}`);
  association.sendRaw(Buffer.from([0, 0]));
  await until(async () => ((await proxy.engine.stats()).udp.dropped.truncated ?? 0) === 1, 'the truncated datagram counted by reason');
  association.control.destroy();
  await until(() => hubOf(proxy.engine).active === 0, 'the association to end');
  const after = (await proxy.engine.stats()).udp;
  assert.equal(after.associationsActive, 0);
  assert.equal(after.datagramsIn, udp.datagramsIn, 'its counts stay in the totals once it ended, counted once');
  metrics = await scrape(proxy.engine);
  assert.equal(metrics.get('proxy_udp_datagrams_total{direction="in"}'), udp.datagramsIn);
});
