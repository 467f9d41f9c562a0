import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../../src/auth/native-provider.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { curl, exchange, METRICS_ON } from '../policy/policy-fixture.js';
import { until } from '../health/pool-fixture.js';
import { authSnapshot, echoOrigin, socksWithPassword } from './auth-fixture.js';

const PROCESSES = 2;
const aliceHash = await hashPassword('alice-pw');

/** Each worker's connections handled so far (which worker a connection reached). */
async function perWorker(engine: ClusteredEngine): Promise<number[]> {
  const lists = await engine.metricsJson();
  return lists.map((metrics) => (metrics.find((m) => m.name === 'proxy_connections_total')?.values ?? []).reduce((n, v) => n + v.value, 0));
}

test(`${PROCESSES} engine processes on shared sockets: failed_attempts.max 3 locks a client after exactly 3 wrong passwords over both workers, on both`, { timeout: 90_000 }, async (t) => {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const auth = { mode: 'native', native: { users: [{ username: 'alice', password_hash: aliceHash }] }, failed_attempts: { max: 3, window: '60s' } };
  const engine = new ClusteredEngine({ ...authSnapshot(auth), metrics: METRICS_ON }, PROCESSES);
  const hits: LimitHit[] = [];
  engine.on('limit:hit', (hit) => hits.push(hit));
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const via = `http://127.0.0.1:${bound.find((l) => l.kind === 'http')!.port}`;
  const socksPort = bound.find((l) => l.kind === 'socks5')!.port;
  const url = `http://127.0.0.1:${site.port}/`;
  const code = async (from: string, user: string): Promise<string> => (await curl(['--interface', from, '-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, url])).stdout;

  /** Runs one attempt and says which worker's counters moved (where its connection landed). */
  const landed = async (attempt: () => Promise<void>): Promise<number> => {
    const before = await perWorker(engine);
    await attempt();
    let moved = -1;
    // A connection is counted once it has ended, which the worker may see just after the client.
    await until(async () => (moved = (await perWorker(engine)).findIndex((n, w) => n > before[w])) >= 0, 10_000, 'the attempt counted by a worker');
    return moved;
  };
  // Each try is a fresh client address; its attempts (a new connection each) land where the kernel puts them, until one client's wrong passwords reached both workers.
  let client = '';
  let wrongOn: number[] = [];
  for (let i = 0; i < 12 && new Set(wrongOn).size < PROCESSES; i++) {
    client = `127.0.0.${10 + i}`;
    const from = client;
    wrongOn = [await landed(async () => assert.equal(await code(from, 'alice:guess-1'), '407'))];
    assert.equal(await code(client, 'alice:alice-pw'), '200', `${client}: the right password before the lock works`);
    wrongOn.push(await landed(async () => assert.equal(await code(from, 'alice:guess-2'), '407')));
    wrongOn.push(await landed(async () => assert.equal(await code(from, 'alice:guess-3'), '407')));
  }
  assert.equal(new Set(wrongOn).size, PROCESSES, `${client}: the wrong passwords reached both workers (${wrongOn.join(', ')})`);

  // Locked on every worker: the right password is refused, over HTTP and SOCKS5, wherever the connection lands.
  const before = await perWorker(engine);
  for (let i = 0; i < 6; i++) assert.equal(await code(client, 'alice:alice-pw'), '429', `${client}: locked after 3 wrong passwords (attempt ${i + 1})`);
  const blocked = await curl(['--interface', client, '-i', '-x', via, '-U', 'alice:alice-pw', url]);
  assert.match(blocked.stdout, /^HTTP\/1\.1 429 [^]*\r\nretry-after: \d+\r\n/i);
  for (let i = 0; i < 4; i++) {
    const socks = await exchange(socksPort, '127.0.0.1', socksWithPassword('alice', 'alice-pw', '127.0.0.1', site.port), { localAddress: client });
    assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x02, 0x01, 0x01], `${client}: SOCKS5 refuses the locked client`);
  }
  // More locked attempts until refusals came from both workers: on a loaded machine the kernel may give one worker every connection for a while.
  let lockedSpread: number[] = [];
  for (let i = 0; i < 40; i++) {
    lockedSpread = (await perWorker(engine)).map((n, w) => n - before[w]);
    if (lockedSpread.every((n) => n > 0)) break;
    assert.equal(await code(client, 'alice:alice-pw'), '429', `${client}: still locked (extra attempt ${i + 1})`);
  }
  assert.ok(lockedSpread.every((n) => n > 0), `refusals of the locked client from both workers (${lockedSpread.join('/')})`);

  // Another address is not locked.
  assert.equal(await code('127.0.0.2', 'alice:alice-pw'), '200');
  await until(async () => hits.some((h) => h.client === client && /3 failed authentication attempts/.test(h.reason)), 10_000, 'the lock reported');
  assert.equal(hits.filter((h) => h.client === client && /3 failed authentication attempts/.test(h.reason)).length, 1, 'the lock is reported once');
});
