import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authSettings } from '../../../src/auth/auth-settings.js';
import { resolveSecretRefs } from '../../../src/auth/secret-refs.js';
import { parseConfigText } from '../../../src/config/load.js';
import { runtimeSections } from '../../../src/config/sections.js';
import { checkSettings } from '../../../src/health/check-settings.js';
import { openRelayProblem } from '../../../src/policy/open-relay.js';
import { policySettings } from '../../../src/policy/policy-settings.js';

const CONFIG = `server:
  bind_address: 0.0.0.0
  auth:
    mode: native
    native:
      users: [{ username: alice, password_hash: "$2b$10$abcdefghijklmnopqrstuu0123456789012345678901234567890" }]
access_control:
  whitelist: ["10.0.0.0/8"]
  connect_ports: [443, 8443]
rate_limiting:
  enabled: true
  per_ip: { requests_per_second: 5, burst: 10 }
access_log:
  enabled: true
  format: json
state:
  store: memory
health_checks:
  defaults: { interval: "7s" }
backends:
  - { name: direct, type: direct }
rules:
  - { name: all, match: { domains: ["*"] }, backend: direct }
`;

test('an absent section gets its defaults: a server trusts no one and checks nothing, a client trusts loopback', () => {
  const server = runtimeSections('server', {});
  assert.deepEqual([server.auth.mode, server.accessControl.trusted_clients, server.rateLimiting.enabled, server.healthChecks], ['none', [], false, null]);
  const client = runtimeSections('client', { server: { auth: { enabled: true } } });
  assert.deepEqual([client.auth.mode, client.accessControl.trusted_clients], ['none', ['127.0.0.0/8', '::1']], 'the client dialect has no server.auth');
  assert.deepEqual(runtimeSections('server', { health_checks: { defaults: { interval: '7s' } } }).healthChecks, { interval: '7s', timeout: '5s', healthy_threshold: 2, unhealthy_threshold: 3 });
});

test('every section is normalised once at load: what features read does not come from the document at use time', () => {
  const loaded = parseConfigText(CONFIG, null, 'server');
  assert.equal(loaded.auth.mode, 'native');
  assert.deepEqual(loaded.accessControl.connect_ports, [443, 8443]);
  assert.deepEqual([loaded.rateLimiting.per_ip?.requests_per_second, loaded.accessLog.format, loaded.state.store, loaded.healthChecks?.interval], [5, 'json', 'memory', '7s']);
  // The same snapshot with its document taken away: every reader answers as before.
  const bare = { ...loaded, raw: {} };
  assert.deepEqual(authSettings(bare), authSettings(loaded));
  assert.deepEqual(policySettings(bare), policySettings(loaded));
  assert.deepEqual(checkSettings(bare), checkSettings(loaded));
  assert.equal(openRelayProblem(bare), null, 'auth on: not an open relay');
  assert.match(openRelayProblem({ ...bare, auth: { ...bare.auth, mode: 'none' }, accessControl: { ...bare.accessControl, whitelist: [] } }) ?? '', /refusing to start an open proxy/);
});

test('resolving secret references renormalises the sections from the resolved document', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-sections-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = join(dir, 'bind.pass');
  writeFileSync(secret, 's3cret\n', { mode: 0o600 });
  const text = `server:\n  auth:\n    mode: ldap\n    ldap: { server: "ldap://127.0.0.1:389", base_dn: "dc=example,dc=org", bind_dn: "cn=proxy", bind_password: "file:${secret}" }\nbackends:\n  - { name: direct, type: direct }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n`;
  const loaded = parseConfigText(text, null, 'server');
  assert.equal(loaded.auth.ldap?.bind_password, `file:${secret}`);
  const resolved = await resolveSecretRefs(loaded);
  assert.equal(resolved.auth.ldap?.bind_password, 's3cret');
});
