import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { ProxyEngine } from '../../../src/proxy/engine.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import type { BackendHealthEvent } from '../../../src/health/health-state.js';
import { connectTunnel, echoOrigin, rawServer } from '../proxy/raw-peers.js';
import { get, poolConfig, startUpstreams, until } from './pool-fixture.js';

const INTERVAL_MS = 300;

test('an upstream stopped mid-traffic loses new traffic within one check interval with no failed request; it returns after healthy_threshold checks', { timeout: 90_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  let upstreams = await startUpstreams(3);
  t.after(() => Promise.all(upstreams.map((u) => u.stop())).then(() => undefined));
  const config = poolConfig(upstreams, {
    weights: [1, 1, 1],
    healthChecks: { defaults: `{ interval: "${INTERVAL_MS}ms", timeout: "1s", healthy_threshold: 2, unhealthy_threshold: 2 }`, backend: `{ type: tcp, target: "127.0.0.1:${origin.port}" }` },
  });
  const front = new ProxyEngine(config);
  const records: ConnectionRecord[] = [];
  const events: (BackendHealthEvent & { at: number })[] = [];
  front.on('connection:end', (r) => records.push(r));
  front.on('backend:health', (e) => events.push({ ...e, at: Date.now() }));
  const port = (await front.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => front.stop({ drainMs: 0 }).then(() => undefined));
  await until(() => ['up0', 'up1', 'up2'].every((n) => front.health()[n].status === 'healthy'), 5000, 'three healthy upstreams');

  // Traffic: four clients, each sending plain requests and opening tunnels back to back.
  const raw = await rawServer(Buffer.from('hi\n'), Buffer.alloc(0));
  t.after(() => raw.server.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  const failures: string[] = [];
  let sent = 0;
  let running = true;
  const loops = Array.from({ length: 4 }, async (_, client) => {
    while (running) {
      const answer = await get(port, `http://127.0.0.1:${origin.port}/c${client}`, { agent });
      if (answer.status !== 200) failures.push(`GET ${answer.status} ${answer.error ?? answer.body.trim()}`);
      try {
        const tunnel = await connectTunnel(port, raw.port);
        tunnel.socket.destroy();
      } catch (error) {
        failures.push(`CONNECT ${(error as Error).message}`);
      }
      sent += 2;
      // A broken setup must not spin: stop after a handful of failures.
      if (failures.length > 20) running = false;
    }
  });
  const stopTraffic = async (): Promise<void> => {
    running = false;
    await Promise.all(loops);
  };
  try {
    await until(() => sent > 100, 10_000, 'traffic through every member');
    assert.ok(records.some((r) => r.backend === 'up1'));

    // Stop up1 (listeners close at once, requests in flight finish).
    const stoppedAt = Date.now();
    const up1Port = upstreams[1].http.port;
    await upstreams[1].engine.stop({ drainMs: 2000 });
    await until(() => front.health().up1.status === 'unhealthy', 5000, 'up1 marked unhealthy');
    const down = events.find((e) => e.backend === 'up1' && !e.healthy)!;
    assert.ok(down.at - stoppedAt <= INTERVAL_MS, `marked unhealthy ${down.at - stoppedAt} ms after it stopped (interval ${INTERVAL_MS} ms)`);
    const sentAtDown = sent;
    const checksAtDown = front.health().up1.checks;
    await until(() => sent > sentAtDown + 100 && front.health().up1.checks >= checksAtDown + 2, 10_000, 'traffic and two checks while up1 is down');
    const late = records.filter((r) => r.startedAt > stoppedAt + INTERVAL_MS && r.backend === 'up1');
    assert.equal(late.length, 0, `${late.length} requests still went to up1 one interval after it stopped`);
    assert.deepEqual(failures, [], 'no request failed: a failed dial was retried on another member');
    const whileDown = front.health().up1;
    assert.ok(whileDown.consecutiveFailures >= 2, `consecutive failures ${whileDown.consecutiveFailures}`);
    assert.ok(whileDown.reason, 'the reason is kept');

    // Start it again on the same port: it is back after healthy_threshold passing checks.
    const checksAtRestart = front.health().up1.checks;
    const restarted = (await startUpstreams(1, [up1Port]))[0];
    upstreams = [upstreams[0], restarted, upstreams[2]];
    await until(() => front.health().up1.status === 'healthy', 5000, 'up1 healthy again');
    const back = front.health().up1;
    // One check may have been under way (and failed) when it restarted.
    assert.ok(back.checks - checksAtRestart >= 2 && back.checks - checksAtRestart <= 3, `${back.checks - checksAtRestart} checks to come back`);
    const healthyAt = events.findLast((e) => e.backend === 'up1' && e.healthy)!.at;
    await until(() => records.some((r) => r.startedAt > healthyAt && r.backend === 'up1'), 5000, 'traffic on up1 again');
    assert.ok(restarted.records.length > 0, 'the restarted upstream carried traffic');

    await stopTraffic();
    assert.deepEqual(failures, []);

    // The status values match what happened: checks failed only while it was down.
    assert.equal(back.consecutiveFailures, 0);
    assert.ok(back.uptimePercent! > 0 && back.uptimePercent! < 100, `uptime ${back.uptimePercent}%`);
    assert.equal(front.health().up0.uptimePercent, 100);
    assert.ok(back.latencyMs! >= 0 && back.latencyMs! < 10_000, `latency ${back.latencyMs} ms`);
    assert.ok(Date.now() - back.lastCheck! < 5 * INTERVAL_MS + 1000);
    assert.deepEqual(
      events.filter((e) => e.backend === 'up1').map((e) => e.status),
      ['healthy', 'unhealthy', 'healthy'],
    );
  } finally {
    await stopTraffic();
  }
});

test('every member unhealthy: the connection fails fast with the reason (502, SOCKS5 0x04); health survives a reload', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const upstreams = await startUpstreams(2);
  const ports = upstreams.map((u) => u.http.port);
  await Promise.all(upstreams.map((u) => u.stop()));
  const config = poolConfig(upstreams, {
    weights: [1, 1],
    healthChecks: { defaults: '{ interval: "10s", timeout: "1s" }', backend: `{ type: tcp, target: "127.0.0.1:${origin.port}" }` },
  });
  const front = new ProxyEngine(config);
  const listeners = await front.start();
  t.after(() => front.stop({ drainMs: 0 }).then(() => undefined));
  await until(() => Object.values(front.health()).every((h) => h.status === 'unhealthy'), 5000, 'both members unhealthy');

  const answer = await get(listeners.find((l) => l.kind === 'http')!.port, `http://127.0.0.1:${origin.port}/x`);
  assert.equal(answer.status, 502);
  assert.match(answer.body, new RegExp(`every backend of rule "pool" is unhealthy \\(up0: upstream 127.0.0.1:${ports[0]}: connection refused; up1: .*\\)`));

  const { connect } = await import('node:net');
  const socks = connect({ host: '127.0.0.1', port: listeners.find((l) => l.kind === 'socks5')!.port });
  t.after(() => socks.destroy());
  socks.write(Buffer.from([5, 1, 0]));
  socks.once('data', () => socks.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, origin.port >> 8, origin.port & 255])));
  const reply = await new Promise<Buffer>((resolve) => {
    let got = Buffer.alloc(0);
    socks.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 4) resolve(got.subarray(2));
    });
  });
  assert.equal(reply[1], 0x04, 'host unreachable');

  // A reload that leaves the backends as they are keeps their health (no new first check needed).
  const before = front.health().up0;
  await front.reload({ ...config, version: 'v2', rules: [...config.rules, { name: 'extra', domains: ['example.org'], backends: [{ name: 'up0', weight: 1 }] }] });
  assert.deepEqual(front.health().up0, before);
  assert.equal((await get(listeners.find((l) => l.kind === 'http')!.port, `http://127.0.0.1:${origin.port}/y`)).status, 502);
  // A backend whose definition changed starts afresh; the unchanged one still keeps its state.
  const [moved] = await startUpstreams(1);
  t.after(() => moved.stop());
  const checksBefore = front.health().up1.checks;
  assert.ok(checksBefore >= 1);
  await front.reload({ ...config, version: 'v3', backends: config.backends.map((b) => (b.name === 'up1' ? { ...b, port: moved.http.port } : b)) });
  assert.deepEqual(front.health().up0, before);
  await until(() => front.health().up1.status === 'healthy', 5000, 'the changed up1 checked anew');
  assert.equal(front.health().up1.checks, 1, 'a fresh history: its failures before the change are gone');
  assert.equal(front.health().up1.uptimePercent, 100);
});

test('a failed dial on a fresh connection is retried once, on another member, and no more', { timeout: 30_000 }, async (t) => {
  // Three upstreams that accept and hang up at once: every dial through them fails.
  const attempts = [0, 0, 0];
  const broken = await Promise.all(
    attempts.map(async (_, i) => {
      const server = createServer((socket) => {
        attempts[i]++;
        socket.destroy();
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      t.after(() => server.close());
      return { http: { port: (server.address() as { port: number }).port } };
    }),
  );
  const front = new ProxyEngine(poolConfig(broken, { weights: [1, 1, 1] }));
  const records: ConnectionRecord[] = [];
  front.on('connection:end', (r) => records.push(r));
  const port = (await front.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => front.stop({ drainMs: 0 }).then(() => undefined));

  const tunnel = await connectTunnel(port, 9).then(
    () => 'connected',
    (error: Error) => error.message,
  );
  assert.match(tunnel, /502/);
  await until(() => records.length === 1, 5000, 'the record');
  assert.deepEqual([...attempts].sort(), [0, 1, 1], `CONNECT: one dial and one retry elsewhere, got ${attempts.join(', ')}`);
  assert.equal(records[0].status, 502);

  attempts.fill(0);
  const answer = await get(port, 'http://127.0.0.1:9/plain');
  assert.equal(answer.status, 502, answer.body);
  await until(() => records.length === 2, 5000, 'the record');
  assert.deepEqual([...attempts].sort(), [0, 1, 1], `GET: one dial and one retry elsewhere, got ${attempts.join(', ')}`);
});

test('every weighted member unhealthy: a weight-0 fallback member of the rule serves instead of a 502', { timeout: 30_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const [gone, spare] = await startUpstreams(2);
  t.after(() => spare.stop());
  await gone.stop();
  const front = new ProxyEngine(
    poolConfig([gone, spare], {
      weights: [1, 0],
      healthChecks: { defaults: '{ interval: "10s", timeout: "1s" }', backend: `{ type: tcp, target: "127.0.0.1:${origin.port}" }` },
    }),
  );
  const records: ConnectionRecord[] = [];
  front.on('connection:end', (r) => records.push(r));
  const port = (await front.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => front.stop({ drainMs: 0 }).then(() => undefined));
  await until(() => front.health().up0.status === 'unhealthy' && front.health().up1.status === 'healthy', 5000, 'up0 down, the fallback up');

  for (let i = 0; i < 3; i++) assert.equal((await get(port, `http://127.0.0.1:${origin.port}/f${i}`)).status, 200);
  await until(() => records.length === 3, 5000, 'the records');
  assert.deepEqual(records.map((r) => r.backend), ['up1', 'up1', 'up1']);
  assert.equal(spare.records.filter((r) => r.path?.startsWith('/f')).length, 3, 'the fallback upstream carried them');
});

test('passive checks: tunnels timing out through a stalled upstream mark it unhealthy before the next active check; each is retried elsewhere', { timeout: 60_000 }, async (t) => {
  const upstreams = await startUpstreams(2);
  t.after(() => Promise.all(upstreams.map((u) => u.stop())).then(() => undefined));
  // A relay in front of up0 that can stall: it then accepts connections and never answers.
  let stalled = false;
  const sockets: Socket[] = [];
  const relay = createServer((socket) => {
    sockets.push(socket.on('error', () => undefined));
    if (stalled) return;
    const onward = netConnect(upstreams[0].http.port, '127.0.0.1');
    sockets.push(onward.on('error', () => socket.destroy()));
    socket.pipe(onward).pipe(socket);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => {
    sockets.forEach((s) => s.destroy());
    relay.close();
  });
  const raw = await rawServer(Buffer.from('hi\n'), Buffer.alloc(0));
  t.after(() => raw.server.close());
  const members = [{ http: { port: (relay.address() as { port: number }).port } }, upstreams[1]];
  const config = poolConfig(members, {
    weights: [1, 1],
    // One active check at the start, the next a minute later: only live traffic can notice the stall.
    healthChecks: { defaults: '{ interval: "60s", timeout: "1s", unhealthy_threshold: 2 }', backend: `{ type: tcp, target: "127.0.0.1:${raw.port}" }` },
  });
  const front = new ProxyEngine({ ...config, network: { ...config.network, timeouts: { ...config.network.timeouts, connectMs: 500 } } });
  const records: ConnectionRecord[] = [];
  front.on('connection:end', (r) => records.push(r));
  const port = (await front.start()).find((l) => l.kind === 'http')!.port;
  t.after(() => front.stop({ drainMs: 0 }).then(() => undefined));
  await until(() => front.health().up0.status === 'healthy' && front.health().up1.status === 'healthy', 5000, 'both members healthy');

  stalled = true;
  for (let i = 0; i < 6; i++) {
    const tunnel = await connectTunnel(port, raw.port);
    tunnel.socket.destroy();
  }
  const up0 = front.health().up0;
  assert.equal(up0.status, 'unhealthy');
  assert.equal(up0.checks, 1, 'no active check ran since the first');
  assert.match(up0.reason ?? '', /connections in a row failed: .*(within 500 ms|timed out|timeout)/i);
  assert.equal(up0.consecutiveFailures, 2, 'two timeouts (the threshold), then skipped');
  await until(() => records.length === 6, 5000, 'every record');
  assert.deepEqual(records.map((r) => [r.backend, r.status]), Array.from({ length: 6 }, () => ['up1', 200]), 'each timed-out dial was retried on up1');
});
