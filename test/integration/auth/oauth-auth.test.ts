import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OAuth2Server } from 'oauth2-mock-server';
import { curl } from '../policy/policy-fixture.js';
import { startEngine } from '../proxy/engine-fixture.js';
import { authSnapshot, echoOrigin } from './auth-fixture.js';

/** A real OpenID Connect provider (oauth2-mock-server) on loopback, with an RS256 key. */
async function provider(): Promise<OAuth2Server> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  return server;
}

function token(server: OAuth2Server, claims: Record<string, unknown>, expiresIn = 600): Promise<string> {
  return server.issuer.buildToken({
    expiresIn,
    scopesOrTransform: (_header, payload) => {
      Object.assign(payload, { aud: 'simple-proxy', preferred_username: 'erin', groups: ['proxy-users', 'streaming'] }, claims);
    },
  });
}

test('oauth: JWTs are checked against the provider JWKS (issuer, audience, expiry with skew, groups) as Bearer or as the Basic password', { timeout: 90_000 }, async (t) => {
  const idp = await provider();
  t.after(() => idp.stop());
  const stranger = await provider();
  t.after(() => stranger.stop());
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(
    authSnapshot({
      mode: 'oauth',
      acl: [{ group: 'streaming', backends: ['direct'] }],
      oauth: { jwt: { issuer: idp.issuer.url, audience: 'simple-proxy' }, allowed_groups: ['proxy-users'], clock_skew: '30s' },
    }),
  );
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const bearer = async (value: string, host = '127.0.0.1'): Promise<string> =>
    (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '--proxy-header', `Proxy-Authorization: Bearer ${value}`, `http://${host}:${site.port}/`])).stdout;

  const good = await token(idp, {});
  assert.equal(await bearer(good), '200');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', `erin:${good}`, `http://127.0.0.1:${site.port}/`])).stdout, '200', 'token as the Basic password');
  const tunnel = await curl(['-p', '-o', '/dev/null', '-w', '%{http_code}', '-x', via, '--proxy-header', `Proxy-Authorization: Bearer ${good}`, `http://127.0.0.1:${site.port}/`]);
  assert.equal(tunnel.stdout, '200', 'CONNECT with a bearer');
  assert.equal(await bearer(good, 'localhost'), '403', 'groups claim drives the ACL');

  assert.equal(await bearer(await token(idp, { aud: 'another-app' })), '407', 'wrong audience');
  assert.equal(await bearer(await token(stranger, {})), '407', 'signed by another provider');
  assert.equal(await bearer(await token(idp, {}, -120)), '407', 'expired beyond the clock skew');
  assert.equal(await bearer(await token(idp, {}, -5)), '200', 'expired within the clock skew');
  assert.equal(await bearer(await token(idp, { groups: ['others'] })), '403', 'not in allowed_groups: the credentials are right, so 403');
  assert.equal(await bearer(`${good.slice(0, -4)}AAAA`), '407', 'tampered signature');
  assert.equal(await bearer(await token(idp, { preferred_username: undefined, sub: 'subject-1' })), '200', 'falls back to sub');

  const challenge = await curl(['-i', '-x', via, `http://127.0.0.1:${site.port}/`]);
  assert.match(challenge.stdout, /\r\nproxy-authenticate: Bearer realm="simple-proxy", Basic realm="simple-proxy"/i);
  const users = new Set(proxy.records.filter((r) => r.status === 200).map((r) => r.user));
  assert.deepEqual([...users].sort(), ['erin', 'subject-1']);
});

test('oauth: opaque tokens are checked at the userinfo endpoint, also as the SOCKS5 password', { timeout: 90_000 }, async (t) => {
  const idp = await provider();
  t.after(() => idp.stop());
  idp.service.on('beforeUserinfo', (response: { statusCode: number; body: unknown }, req: { headers: Record<string, string> }) => {
    if (req.headers.authorization === 'Bearer opaque-good') response.body = { sub: 'u-7', preferred_username: 'frank', groups: 'proxy-users streaming' };
    else {
      response.statusCode = 401;
      response.body = { error: 'invalid_token' };
    }
  });
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(authSnapshot({ mode: 'oauth', oauth: { userinfo_url: `${idp.issuer.url}/userinfo`, allowed_groups: ['proxy-users'] } }));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const bearer = async (value: string): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '--proxy-header', `Proxy-Authorization: Bearer ${value}`, `http://127.0.0.1:${site.port}/`])).stdout;
  assert.equal(await bearer('opaque-good'), '200');
  assert.equal(await bearer('opaque-bad'), '407');
  const socks = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--socks5', `frank:opaque-good@127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.equal(socks.stdout, '200');
  const deadline = Date.now() + 5000;
  while (proxy.records.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(proxy.records.filter((r) => r.status === 200 || r.status === 0).map((r) => [r.protocol, r.user]), [['http', 'frank'], ['socks5', 'frank']]);
  const socksWrong = await curl(['--socks5', `frank:opaque-bad@127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.match(socksWrong.stderr, /User was rejected by the SOCKS5 server/, 'RFC 1929 failure');
});
