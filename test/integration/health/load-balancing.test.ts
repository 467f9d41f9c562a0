import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { connectTunnel, echoOrigin, rawServer } from '../proxy/raw-peers.js';
import { get, many, poolConfig, startFront, startUpstreams, until } from './pool-fixture.js';

const share = (records: ConnectionRecord[], name: string): number => records.filter((r) => r.backend === name).length / records.length;

test('round_robin and random hold their weights over real upstream proxies', { timeout: 90_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const upstreams = await startUpstreams(3);
  t.after(() => Promise.all(upstreams.map((u) => u.stop())).then(() => undefined));
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());

  const weights = [50, 30, 20];
  const rr = await startFront(t, poolConfig(upstreams, { weights, algorithm: 'round_robin' }));
  const failures: string[] = [];
  await many(1000, 8, async (i) => {
    const answer = await get(rr.port, `http://127.0.0.1:${origin.port}/rr${i}`, { agent });
    if (answer.status !== 200) failures.push(`${answer.status} ${answer.error ?? answer.body}`);
  });
  assert.equal(failures.length, 0, failures.join('; '));
  await until(() => rr.records.length === 1000, 5000, 'every record');
  weights.forEach((w, i) => assert.ok(Math.abs(share(rr.records, `up${i}`) - w / 100) <= 0.05, `up${i}: ${share(rr.records, `up${i}`)} of requests for weight ${w}%`));
  // The upstreams really carried them: each one's own count matches what the front sent it.
  for (const [i, u] of upstreams.entries()) assert.equal(u.records.filter((r) => r.path?.startsWith('/rr')).length, rr.records.filter((r) => r.backend === `up${i}`).length);

  const random = await startFront(t, poolConfig(upstreams, { weights: [3, 1, 0], algorithm: 'random' }));
  await many(2000, 8, async (i) => {
    const answer = await get(random.port, `http://127.0.0.1:${origin.port}/rnd${i}`, { agent });
    if (answer.status !== 200) failures.push(`${answer.status} ${answer.error ?? answer.body}`);
  });
  assert.equal(failures.length, 0, failures.join('; '));
  await until(() => random.records.length === 2000, 5000, 'every record');
  assert.ok(Math.abs(share(random.records, 'up0') - 0.75) <= 0.05, `up0 share ${share(random.records, 'up0')}`);
  assert.equal(share(random.records, 'up2'), 0, 'a weight-0 member is only a fallback');
});

test('ip_hash maps each client address to a stable upstream; sticky sessions hold', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const upstreams = await startUpstreams(3);
  t.after(() => Promise.all(upstreams.map((u) => u.stop())).then(() => undefined));
  const clients = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

  for (const [algorithm, sticky] of [['ip_hash', false], ['round_robin', true]] as const) {
    const front = await startFront(t, poolConfig(upstreams, { weights: [1, 1, 1], algorithm, sticky }));
    const served = new Map<string, Set<string>>();
    for (let round = 0; round < 4; round++) {
      for (const client of clients) {
        const answer = await get(front.port, `http://127.0.0.1:${origin.port}/${algorithm}`, { localAddress: client });
        assert.equal(answer.status, 200, answer.error);
      }
    }
    await until(() => front.records.length === clients.length * 4, 5000, 'every record');
    for (const r of front.records) {
      assert.ok(clients.includes(r.clientAddress), `request came from ${r.clientAddress}`);
      served.set(r.clientAddress, (served.get(r.clientAddress) ?? new Set()).add(r.backend!));
    }
    for (const [client, members] of served) assert.equal(members.size, 1, `${algorithm}${sticky ? ' sticky' : ''}: ${client} went to ${[...members].join(', ')}`);
    const used = new Set([...served.values()].map((s) => [...s][0]));
    assert.ok(used.size >= 2, `${algorithm}: eight clients all on ${[...used].join(', ')}`);
  }
});

test('least_conn spreads long-lived tunnels by open connections and weight', { timeout: 60_000 }, async (t) => {
  const upstreams = await startUpstreams(3);
  t.after(() => Promise.all(upstreams.map((u) => u.stop())).then(() => undefined));
  const raw = await rawServer(Buffer.from('hello\n'), Buffer.alloc(0));
  t.after(() => raw.server.close());
  const front = await startFront(t, poolConfig(upstreams, { weights: [2, 1, 1], algorithm: 'least_conn' }));

  const tunnels: Awaited<ReturnType<typeof connectTunnel>>[] = [];
  for (let i = 0; i < 8; i++) tunnels.push(await connectTunnel(front.port, raw.port));
  t.after(() => tunnels.forEach((tunnel) => tunnel.socket.destroy()));
  const active = async (): Promise<number[]> => Promise.all(upstreams.map(async (u) => (await u.engine.stats()).connectionsActive));
  await until(async () => (await active()).reduce((a, b) => a + b, 0) === 8, 5000, 'eight open tunnels upstream');
  assert.deepEqual(await active(), [4, 2, 2]);

  // After two tunnels close, the next one goes where the fewest are open per unit of weight.
  for (const tunnel of tunnels.splice(0, 2)) tunnel.socket.destroy();
  await until(async () => (await active()).reduce((a, b) => a + b, 0) === 6, 5000, 'two tunnels closed');
  const before = await active();
  tunnels.push(await connectTunnel(front.port, raw.port));
  await until(async () => (await active()).reduce((a, b) => a + b, 0) === 7, 5000, 'a new tunnel');
  const after = await active();
  const grew = after.findIndex((n, i) => n > before[i]);
  const load = before.map((n, i) => n / [2, 1, 1][i]);
  assert.equal(load[grew], Math.min(...load), `new tunnel went to up${grew} with load ${JSON.stringify(load)}`);
});
