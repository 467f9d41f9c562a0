import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteExplanation } from '../../../src/routing/route-explanation.js';
import { echoOrigin } from '../proxy/raw-peers.js';
import { startEngine } from '../proxy/engine-fixture.js';
import { authSnapshot, basic } from '../auth/auth-fixture.js';
import { get, poolConfig, startFront, startUpstreams, until } from './pool-fixture.js';

test('explainRoute names the ip_hash member each client address really gets, and the sticky session a client holds', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const upstreams = await startUpstreams(3);
  t.after(() => Promise.all(upstreams.map((u) => u.stop())).then(() => undefined));
  const clients = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

  const hashed = await startFront(t, poolConfig(upstreams, { weights: [1, 1, 1], algorithm: 'ip_hash' }));
  const predicted = new Map(clients.map((client) => [client, hashed.engine.explainRoute('127.0.0.1', { client })]));
  for (const [client, answer] of predicted) {
    assert.equal(answer.choice?.basis, 'client-address');
    assert.equal(answer.choice?.candidates.length, 1);
    const served = await get(hashed.port, `http://127.0.0.1:${origin.port}/${client}`, { localAddress: client });
    assert.equal(served.status, 200, served.error);
  }
  await until(() => hashed.records.length === clients.length, 5000, 'every record');
  for (const record of hashed.records) assert.equal(record.backend, predicted.get(record.clientAddress)?.backend, `client ${record.clientAddress}`);
  assert.ok(new Set([...predicted.values()].map((a) => a.backend)).size >= 2, 'eight clients spread over more than one member');
  const unknownClient = hashed.engine.explainRoute('127.0.0.1');
  assert.deepEqual([unknownClient.backend, unknownClient.choice?.candidates], [null, ['up0', 'up1', 'up2']], 'without a client address it depends on it');

  const sticky = await startFront(t, poolConfig(upstreams, { weights: [1, 1, 1], algorithm: 'round_robin', sticky: true }));
  const first = await get(sticky.port, `http://127.0.0.1:${origin.port}/s`, { localAddress: '127.0.0.9' });
  assert.equal(first.status, 200, first.error);
  await until(() => sticky.records.length === 1, 5000, 'the sticky record');
  const held = sticky.engine.explainRoute('127.0.0.1', { client: '127.0.0.9' });
  assert.deepEqual([held.choice?.basis, held.backend], ['sticky', sticky.records[0].backend]);
});

test('explainRoute: round robin is a per-connection choice; unhealthy members are skipped with the reason', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const upstreams = await startUpstreams(3);
  let stopped = false;
  t.after(() => Promise.all(upstreams.slice(stopped ? 1 : 0).map((u) => u.stop())).then(() => undefined));
  const front = await startFront(
    t,
    poolConfig(upstreams, { weights: [1, 1, 1], algorithm: 'round_robin', healthChecks: { defaults: '{ interval: "200ms", timeout: "1s", healthy_threshold: 1, unhealthy_threshold: 1 }', backend: `{ type: tcp, target: "127.0.0.1:${origin.port}" }` } }),
  );
  await until(() => ['up0', 'up1', 'up2'].every((n) => front.engine.health()[n].status === 'healthy'), 5000, 'three healthy upstreams');
  const all = front.engine.explainRoute('example.com', { client: '127.0.0.1' });
  assert.deepEqual([all.rule?.name, all.backend, all.choice?.basis, all.choice?.algorithm, all.choice?.candidates], ['pool', null, 'per-connection', 'round_robin', ['up0', 'up1', 'up2']]);

  await upstreams[0].stop();
  stopped = true;
  await until(() => front.engine.health().up0.status === 'unhealthy', 5000, 'up0 marked unhealthy');
  const answer = front.engine.explainRoute('example.com');
  assert.deepEqual(answer.choice?.candidates, ['up1', 'up2']);
  assert.equal(answer.choice?.skipped.length, 1);
  assert.equal(answer.choice?.skipped[0].name, 'up0');
  assert.match(answer.choice?.skipped[0].reason ?? '', /refused/);
  // The engine agrees: traffic goes to the two that are left.
  for (let i = 0; i < 4; i++) assert.equal((await get(front.port, `http://127.0.0.1:${origin.port}/x${i}`)).status, 200);
  await until(() => front.records.length === 4, 5000, 'four records');
  assert.deepEqual(new Set(front.records.map((r) => r.backend)), new Set(['up1', 'up2']));
});

test("explainRoute checks the user's groups against the ACL the way a request is refused", { timeout: 30_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const { hash } = await import('@node-rs/bcrypt');
  const auth = {
    mode: 'native',
    native: {
      users: [
        { username: 'alice', password_hash: await hash('pw', 4), groups: ['streaming'] },
        { username: 'bob', password_hash: await hash('pw', 4), groups: ['basic'] },
      ],
    },
    acl: [
      { group: 'streaming', backends: ['*'] },
      { group: 'basic', backends: ['other'] },
    ],
  };
  const running = await startEngine(authSnapshot(auth));
  t.after(() => running.stop());
  const url = `http://127.0.0.1:${origin.port}/acl`;
  const askAs = (user: string, groups: string[]): RouteExplanation => running.engine.explainRoute('127.0.0.1', { user, groups: { known: true, groups } });

  const bob = askAs('bob', ['basic']);
  assert.deepEqual([bob.backend, bob.access?.allowed, bob.access?.refused], ['direct', false, ['direct']]);
  assert.match(bob.access?.reason ?? '', /refused by the acl for direct \(groups basic\)/);
  const alice = askAs('alice', ['streaming']);
  assert.deepEqual([alice.access?.allowed, alice.access?.refused], [true, []]);
  const unknown = running.engine.explainRoute('127.0.0.1', { user: 'carol', groups: { known: false, reason: 'no native user "carol": its credentials are refused (407)', refused: true } });
  assert.equal(unknown.access?.allowed, false);

  const { request } = await import('node:http');
  const status = (user: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: running.http.port, path: url, agent: false, headers: { 'proxy-authorization': basic(user, 'pw') } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await status('bob'), 403, 'the engine refuses bob as the explanation says');
  assert.equal(await status('alice'), 200);
});
