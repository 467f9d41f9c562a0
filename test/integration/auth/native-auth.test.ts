import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mergeClientViews } from '../../../src/auth/client-registry.js';
import { hashPassword } from '../../../src/auth/native-provider.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { curl, exchange, METRICS_ON, scrape } from '../policy/policy-fixture.js';
import { startEngine } from '../proxy/engine-fixture.js';
import { authSnapshot, basic, burst, echoOrigin, socksWithPassword } from './auth-fixture.js';

const [aliceHash, bobHash] = await Promise.all([hashPassword('alice-pw'), hashPassword('bob pw:with colon')]);
const native = (extra: Record<string, unknown> = {}) => ({
  mode: 'native',
  native: {
    users: [
      { username: 'alice', password_hash: aliceHash, groups: ['streaming'] },
      { username: 'bob', password_hash: bobHash, groups: ['work'] },
    ],
    acl: [
      { group: 'streaming', backends: ['direct'] },
      { group: 'work', backends: ['*'] },
    ],
  },
  ...extra,
});

/** An echo origin and an engine on `snapshot`, both stopped after the test, with the refusals the engine reports. */
async function engineWithHits(t: TestContext, snapshot = authSnapshot(native())) {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(snapshot);
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  return { site, proxy, hits, via: `http://127.0.0.1:${proxy.http.port}` };
}

test('native: curl through HTTP, CONNECT and SOCKS5 with the right password passes; missing or wrong gets 407 / SOCKS5 failure', { timeout: 60_000 }, async (t) => {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(authSnapshot(native()));
  t.after(() => proxy.stop());
  const url = `http://127.0.0.1:${site.port}/hello`;
  const via = `http://127.0.0.1:${proxy.http.port}`;

  const missing = await curl(['-i', '-x', via, url]);
  assert.match(missing.stdout, /^HTTP\/1\.1 407 Proxy Authentication Required/);
  assert.match(missing.stdout, /\r\nproxy-authenticate: Basic realm="simple-proxy", charset="UTF-8"\r\n/i);
  const wrong = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', 'alice:nope', url]);
  assert.equal(wrong.stdout, '407');
  const unknown = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', 'mallory:alice-pw', url]);
  assert.equal(unknown.stdout, '407');

  const ok = await curl(['-x', via, '-U', 'alice:alice-pw', url]);
  const echoed = JSON.parse(ok.stdout) as { url: string; headers: Record<string, string> };
  assert.equal(echoed.url, '/hello');
  assert.equal(echoed.headers['proxy-authorization'], undefined, 'Proxy-Authorization is not forwarded upstream');
  const colon = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '--proxy-user', 'bob:bob pw:with colon', url]);
  assert.equal(colon.stdout, '200', 'a password may contain a colon');

  const tunnelOk = await curl(['-p', '-x', via, '-U', 'alice:alice-pw', '-o', '/dev/null', '-w', '%{http_code}', url]);
  assert.equal(tunnelOk.stdout, '200');
  const tunnelNo = await curl(['-p', '-x', via, '-o', '/dev/null', '-w', '%{http_connect}', url]);
  assert.equal(tunnelNo.stdout, '407');
  const rawConnect = await exchange(proxy.http.port, '127.0.0.1', `CONNECT 127.0.0.1:${site.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic('alice', 'bad')}\r\n\r\n`);
  assert.match(rawConnect.reply.toString('latin1'), /^HTTP\/1\.1 407 Proxy Authentication Required\r\n[^]*Proxy-Authenticate: Basic realm="simple-proxy"/);

  const socksOk = await curl(['--socks5', `alice:alice-pw@127.0.0.1:${proxy.socks.port}`, url]);
  assert.equal((JSON.parse(socksOk.stdout) as { url: string }).url, '/hello');
  const socksWrong = await exchange(proxy.socks.port, '127.0.0.1', socksWithPassword('alice', 'bad', '127.0.0.1', site.port));
  assert.deepEqual([...socksWrong.reply], [0x05, 0x02, 0x01, 0x01], 'method 0x02 chosen, then RFC 1929 failure and close');
  assert.equal(socksWrong.closed, true);
  const socksNoAuth = await exchange(proxy.socks.port, '127.0.0.1', Buffer.from([0x05, 0x01, 0x00]));
  assert.deepEqual([...socksNoAuth.reply], [0x05, 0xff], 'a client offering no username/password gets "no acceptable methods"');

  const deadline = Date.now() + 3000;
  while (proxy.records.filter((r) => r.user === 'alice').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const users = proxy.records.filter((r) => r.status === 200 || r.status === 0).map((r) => [r.protocol, r.user]);
  assert.deepEqual(users, [
    ['http', 'alice'],
    ['http', 'bob'],
    ['connect', 'alice'],
    ['socks5', 'alice'],
  ]);
  assert.ok(proxy.records.some((r) => r.status === 407 && r.error === 'auth-required' && r.user === undefined));
  assert.ok(proxy.records.some((r) => r.status === 407 && r.error === 'auth-failed'));
});

test('native: group ACLs allow a user only the backends of their groups (403, SOCKS5 0x02)', { timeout: 60_000 }, async (t) => {
  const { site, proxy, hits, via } = await engineWithHits(t);
  const code = async (user: string, url: string, extra: string[] = []): Promise<string> => (await curl([...extra, '-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, url])).stdout;

  // localhost routes to backend "other": streaming (alice) may use only "direct", work (bob) everything.
  assert.equal(await code('alice:alice-pw', `http://127.0.0.1:${site.port}/`), '200');
  assert.equal(await code('alice:alice-pw', `http://localhost:${site.port}/`), '403');
  assert.equal(await code('bob:bob pw:with colon', `http://localhost:${site.port}/`), '200');
  const tunnel = await curl(['-p', '-x', via, '-U', 'alice:alice-pw', '-o', '/dev/null', '-w', '%{http_connect}', `http://localhost:${site.port}/`]);
  assert.equal(tunnel.stdout, '403');
  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksWithPassword('alice', 'alice-pw', 'localhost', site.port));
  assert.deepEqual([...socks.reply.subarray(0, 6)], [0x05, 0x02, 0x01, 0x00, 0x05, 0x02], 'authenticated, then "connection not allowed by ruleset"');
  assert.deepEqual(hits.map((h) => [h.scope, h.user, h.protocol]), [
    ['acl', 'alice', 'http'],
    ['acl', 'alice', 'connect'],
    ['acl', 'alice', 'socks5'],
  ]);
  assert.match(hits[0].reason, /user "alice" may not use backend "other"/);
});

test('native: per-user rate limit is keyed on the user, not the address', { timeout: 60_000 }, async (t) => {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine({ ...authSnapshot(native(), { rate_limiting: { enabled: true, per_user: { requests_per_second: 0.2, burst: 2 } } }), metrics: METRICS_ON });
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const code = async (user: string): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, `http://127.0.0.1:${site.port}/`])).stdout;
  assert.deepEqual([await code('alice:alice-pw'), await code('alice:alice-pw'), await code('alice:alice-pw')], ['200', '200', '429']);
  assert.equal(await code('bob:bob pw:with colon'), '200', 'another user from the same address has a bucket of its own');
  assert.deepEqual(hits.map((h) => [h.scope, h.user]), [['user', 'alice']]);
  assert.equal((await scrape(proxy.engine)).get('proxy_rate_limit_exceeded_total{by="user"}'), 1);
});

test('native: the verdict cache keeps a burst of 1,000 authenticated requests to a handful of bcrypt checks', { timeout: 120_000 }, async (t) => {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(authSnapshot(native()));
  t.after(() => proxy.stop());
  const statuses = await burst(proxy.http.port, `http://127.0.0.1:${site.port}/x`, basic('alice', 'alice-pw'), 1000);
  assert.deepEqual([...statuses], [[200, 1000]]);
  const stats = proxy.engine.auth!.stats();
  assert.ok(stats.checks <= 3, `bcrypt ran ${stats.checks} times for 1,000 requests`);
  assert.ok(stats.hits >= 997, `cache answered ${stats.hits}`);
  const wrong = await burst(proxy.http.port, `http://127.0.0.1:${site.port}/x`, basic('bob', 'wrong'), 8, 8);
  assert.deepEqual([...wrong], [[407, 8]]);
  assert.ok(proxy.engine.auth!.stats().checks <= 4, 'concurrent wrong attempts share one check and a negative verdict');
});

test('native: failed attempts are limited per client IP; other addresses go on', { timeout: 60_000 }, async (t) => {
  const { site, proxy, hits, via } = await engineWithHits(t, authSnapshot(native({ failed_attempts: { max: 3, window: '60s' } })));
  const code = async (from: string, user: string): Promise<string> =>
    (await curl(['--interface', from, '-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, `http://127.0.0.1:${site.port}/`])).stdout;
  for (let i = 0; i < 3; i++) assert.equal(await code('127.0.0.2', `alice:guess${i}`), '407');
  const blocked = await curl(['--interface', '127.0.0.2', '-i', '-x', via, '-U', 'alice:alice-pw', `http://127.0.0.1:${site.port}/`]);
  assert.match(blocked.stdout, /^HTTP\/1\.1 429 [^]*\r\nretry-after: \d+\r\n/i, 'even the right password is refused unchecked while blocked');
  assert.equal(await code('127.0.0.1', 'alice:alice-pw'), '200');
  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksWithPassword('alice', 'alice-pw', '127.0.0.1', site.port), { localAddress: '127.0.0.2' });
  assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x02, 0x01, 0x01]);
  const failedLogin = ['auth', '127.0.0.2', 'alice', 'native', 'failed login: wrong password'];
  const limitReached = ['auth', '127.0.0.2', undefined, 'native', '3 failed authentication attempts within 60s; further attempts are refused until it ends (server.auth.failed_attempts)'];
  assert.deepEqual(
    hits.map((h) => [h.scope, h.client, h.user, h.mode, h.reason]),
    [failedLogin, failedLogin, failedLogin, limitReached],
    'each failed login, then the limit; attempts refused unchecked while blocked are not logins',
  );
});

test('native: every failed login is reported with the name it claimed, the client, the mode and why; never its secret', { timeout: 60_000 }, async (t) => {
  const { site, proxy, hits, via } = await engineWithHits(t);
  const url = `http://127.0.0.1:${site.port}/`;
  const status = async (header: string[]): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, ...header, url])).stdout;
  assert.equal(await status(['-U', 'alice:Wrong-Secret-1']), '407');
  assert.equal(await status(['-U', 'alice:Wrong-Secret-1']), '407', 'a cached refusal is reported too');
  assert.equal(await status(['--proxy-header', 'Proxy-Authorization: Bearer Token-Secret-2']), '407');
  assert.equal(await status(['--proxy-header', 'Proxy-Authorization: Basic !!!Secret-3']), '407');
  assert.equal(await status([]), '407');
  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksWithPassword('bob\x1b[2J', 'Wrong-Secret-4', '127.0.0.1', site.port));
  assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x02, 0x01, 0x01], 'RFC 1929: method 0x02, then status 0x01 (failure)');

  const seen = hits.map((h) => ({ scope: h.scope, client: h.client, user: h.user, mode: h.mode, reason: h.reason, protocol: h.protocol }));
  const wrong = { scope: 'auth', client: '127.0.0.1', user: 'alice', mode: 'native', reason: 'failed login: wrong password', protocol: 'http' };
  assert.deepEqual(seen, [
    wrong,
    wrong,
    { scope: 'auth', client: '127.0.0.1', user: undefined, mode: 'native', reason: 'failed login: a Bearer token, but auth mode "native" takes only Basic', protocol: 'http' },
    { scope: 'auth', client: '127.0.0.1', user: undefined, mode: 'native', reason: 'failed login: malformed Proxy-Authorization header', protocol: 'http' },
    { scope: 'auth', client: '127.0.0.1', user: 'bob?[2J', mode: 'native', reason: 'failed login: unknown user', protocol: 'socks5' },
  ], 'no credentials at all is a challenge, not a failed login; control characters of a claimed name are not passed on');
  const text = JSON.stringify(hits);
  for (const secret of ['Secret-1', 'Secret-2', 'Secret-3', 'Secret-4', Buffer.from('alice:Wrong-Secret-1').toString('base64')]) assert.ok(!text.includes(secret), `a hit holds ${secret}`);
});

test('native: a reload with a changed password takes effect at once; a changed mode is reported as needing a restart', { timeout: 60_000 }, async (t) => {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(authSnapshot(native()));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const code = async (user: string): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, `http://127.0.0.1:${site.port}/`])).stdout;
  assert.equal(await code('alice:alice-pw'), '200');
  const changed = native();
  changed.native.users[0] = { ...changed.native.users[0], password_hash: await hashPassword('new-pw') };
  await proxy.engine.reload(authSnapshot(changed));
  assert.equal(await code('alice:alice-pw'), '407', 'the cached verdict for the old password is gone');
  assert.equal(await code('alice:new-pw'), '200');
  const report = await proxy.engine.reload(authSnapshot({ mode: 'none' }));
  assert.deepEqual(report.restartRequired, ['server.auth.mode']);
  assert.equal(await code('alice:nope'), '407', 'until the restart, the running mode stays');
});

test('native: the clustered engine authenticates in its workers and lists the users it saw', { timeout: 60_000 }, async (t) => {
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const engine = new ClusteredEngine(authSnapshot(native()), 2);
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const http = bound.find((l) => l.kind === 'http')!;
  const socks = bound.find((l) => l.kind === 'socks5')!;
  const via = `http://127.0.0.1:${http.port}`;
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, `http://127.0.0.1:${site.port}/`])).stdout, '407');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', 'alice:alice-pw', `http://127.0.0.1:${site.port}/`])).stdout, '200');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '--socks5', `alice:alice-pw@127.0.0.1:${socks.port}`, `http://127.0.0.1:${site.port}/`])).stdout, '200');
  const clients = mergeClientViews(await engine.authClients());
  assert.deepEqual(clients.map((c) => [c.user, c.requests, c.addresses]), [['alice', 2, ['127.0.0.1']]]);
});
