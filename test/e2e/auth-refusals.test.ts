import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OAuth2Server } from 'oauth2-mock-server';
import { httpPort, okOrigin, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

/** curl through the proxy with a bearer token; the status code. */
function bearer(proxyPort: number, url: string, token: string): Promise<string> {
  return new Promise((done) => execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${token}`, url], { timeout: 20_000 }, (_e, stdout) => done(stdout)));
}

/** The daemon log once it holds `count` lines matching `pattern` (engine workers log through the daemon). */
async function logWith(file: string, pattern: RegExp, count: number): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
    if ((text.match(new RegExp(pattern, 'g'))?.length ?? 0) >= count || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('oauth: a known user outside allowed_groups gets 403; each refusal is logged with its own reason', { timeout: 120_000 }, async (t) => {
  const idp = new OAuth2Server();
  await idp.issuer.keys.generate('RS256');
  await idp.start(0, '127.0.0.1');
  t.after(() => idp.stop());
  const stranger = new OAuth2Server();
  await stranger.issuer.keys.generate('RS256');
  await stranger.start(0, '127.0.0.1');
  t.after(() => stranger.stop());
  const site = await okOrigin();
  t.after(() => site.server.close());
  const token = (server: OAuth2Server, claims: Record<string, unknown>, expiresIn = 600): Promise<string> =>
    server.issuer.buildToken({ expiresIn, scopesOrTransform: (_h, payload) => Object.assign(payload, { aud: 'simple-proxy', preferred_username: 'erin', groups: ['proxy-users'] }, claims) });

  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
  auth:
    mode: oauth
    oauth:
      allowed_groups: [proxy-users]
      jwt:
        issuer: "${idp.issuer.url}"
        audience: simple-proxy
${TRUSTED_LOOPBACK_YAML}`);
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const port = httpPort(await box.status());
  const url = `http://127.0.0.1:${site.port}/`;

  assert.equal(await bearer(port, url, await token(idp, {})), '200');
  assert.equal(await bearer(port, url, await token(idp, { preferred_username: 'mallory', groups: ['others'] })), '403', 'right token, wrong group: 403, not 407');
  assert.equal(await bearer(port, url, await token(idp, { aud: 'another-app' })), '407');
  assert.equal(await bearer(port, url, await token(idp, {}, -600)), '407');
  assert.equal(await bearer(port, url, await token(stranger, {})), '407');
  const good = await token(idp, { preferred_username: 'tampered' });
  assert.equal(await bearer(port, url, `${good.slice(0, -6)}AAAAAA`), '407');

  const log = await logWith(join(box.dir, 'state', 'server', 'daemon.log'), /scope=auth/, 5);
  assert.match(log, /refused: user "mallory" is not in server\.auth\.oauth\.allowed_groups scope=auth client=127\.0\.0\.1 protocol=http user=mallory mode=oauth\n/);
  assert.match(log, /failed login: wrong audience \(expected "simple-proxy"\) scope=auth/);
  assert.match(log, /failed login: token expired scope=auth/);
  assert.match(log, /failed login: bad signature[^\n]* scope=auth/);
  assert.equal(log.match(/failed login: bad signature/g)?.length, 2, 'another issuer\'s key and a tampered signature');
});

test('the spec 14.2 snippets with a top-level auth: get a hint to nest them under server.auth', { timeout: 60_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\nauth:\n  mode: "native"\n');
  t.after(() => box.cleanup());
  const result = await box.cli(['config', 'validate', '--config', box.config]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /:4:1: auth: unknown key \(authentication goes under "server:": nest this block as server\.auth\)/);
  writeFileSync(box.config, 'server:\n  http_port: 0\n  socks5_port: 0\n  auth:\n    mode: "native"\n');
  assert.equal((await box.cli(['config', 'validate', '--config', box.config])).code, 0);
});

test('README says how OIDC tokens go over SOCKS5 given the 255-byte RFC 1929 limit', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  assert.match(readme, /\*\*OIDC over SOCKS5\*\*: RFC 1929 [^\n]*255 bytes/);
});
