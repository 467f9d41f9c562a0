import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slapdUnavailable, startSlapd, type Slapd } from '../../helpers/slapd.js';
import { curl } from '../policy/policy-fixture.js';
import { startEngine } from '../proxy/engine-fixture.js';
import { authSnapshot, basic, burst, echoOrigin } from './auth-fixture.js';

const unavailable = slapdUnavailable();

function ldapAuth(server: Slapd, ldap: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'ldap',
    acl: [{ group: 'streaming', backends: ['direct'] }],
    ldap: {
      server: server.url,
      bind_dn: server.serviceDn,
      bind_password: server.servicePassword,
      base_dn: server.baseDn,
      user_filter: '(&(objectClass=inetOrgPerson)(uid=%s))',
      group_filter: '(&(objectClass=groupOfNames)(member=%s))',
      allowed_groups: [`CN=Proxy-Users, OU=groups, ${server.baseDn.toUpperCase()}`],
      ...ldap,
    },
  };
}

test('ldap: a real slapd checks passwords and groups (allowed_groups, ACL by group), and the cache spares it a burst', { skip: unavailable ?? false, timeout: 120_000 }, async (t) => {
  const server = await startSlapd();
  t.after(() => server.stop());
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const proxy = await startEngine(authSnapshot(ldapAuth(server)));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const code = async (user: string, host = '127.0.0.1'): Promise<string> => (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, '-U', user, `http://${host}:${site.port}/`])).stdout;

  // First contact with a burst: concurrent requests wait for one LDAP check.
  const statuses = await burst(proxy.http.port, `http://127.0.0.1:${site.port}/b`, basic('carol', 'carol-pw'), 1000);
  assert.deepEqual([...statuses], [[200, 1000]]);
  const { checks } = proxy.engine.auth!.stats();
  assert.ok(checks <= 3, `LDAP was asked ${checks} times for 1,000 requests`);

  assert.equal(await code('carol:carol-pw'), '200');
  assert.equal(await code('carol:wrong'), '407');
  assert.equal(await code('carol:'), '407', 'an empty password is never an (unauthenticated) bind');
  assert.equal(await code('dave:dave-pw'), '403', 'right password, but not in allowed_groups: 403, not 407');
  assert.equal(await code('*:carol-pw'), '407', 'a filter wildcard in the name finds no one');
  assert.equal(await code('carol:carol-pw', 'localhost'), '403', 'group "streaming" may use only backend "direct"');
  const socks = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--socks5', `carol:carol-pw@127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.equal(socks.stdout, '200');
  const socksWrong = await curl(['--socks5', `carol:wrong@127.0.0.1:${proxy.socks.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.match(socksWrong.stderr, /User was rejected by the SOCKS5 server/, 'RFC 1929 failure');
  assert.ok(proxy.records.some((r) => r.user === 'carol' && r.status === 200));

});

test('ldap: ldaps:// and StartTLS verify the server against tls.ca_cert; skip_verify turns that off', { skip: unavailable ?? false, timeout: 120_000 }, async (t) => {
  const server = await startSlapd();
  t.after(() => server.stop());
  const site = await echoOrigin();
  t.after(() => site.server.close());
  const url = `http://127.0.0.1:${site.port}/`;
  const cases: [string, Record<string, unknown>, string][] = [
    ['ldaps with the CA', { server: server.ldapsUrl, tls: { ca_cert: server.tls.ca } }, '200'],
    ['StartTLS with the CA', { start_tls: true, tls: { ca_cert: server.tls.ca } }, '200'],
    ['ldaps without the CA', { server: server.ldapsUrl }, '503'],
    ['StartTLS without the CA', { start_tls: true }, '503'],
    ['ldaps, skip_verify', { server: server.ldapsUrl, tls: { skip_verify: true } }, '200'],
  ];
  for (const [name, ldap, expected] of cases) {
    const proxy = await startEngine(authSnapshot(ldapAuth(server, ldap)));
    const warnings: string[] = [];
    proxy.engine.on('warning', (w) => warnings.push(w));
    const result = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.http.port}`, '-U', 'carol:carol-pw', url]);
    await proxy.stop();
    assert.equal(result.stdout, expected, name);
    if (expected === '503') {
      assert.match(warnings.join('\n'), /authentication backend \(ldap\) failed/);
      assert.ok(!warnings.join('\n').includes('carol-pw'), 'no credential in the warning');
    }
  }
});
