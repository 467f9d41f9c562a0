import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYRING_SERVICE, keyring } from '../../../src/auth/keyring.js';
import { resolveSecretRefs } from '../../../src/auth/secret-refs.js';
import { loadConfig } from '../../../src/config/load.js';
import { keyringUnavailable, startKeyring } from '../../helpers/keyring-session.js';

const unavailable = keyringUnavailable();

/** A client config whose server password is a keyring reference. */
function clientConfigWith(password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sp-keyring-config-'));
  const path = join(dir, 'client-config.yaml');
  writeFileSync(path, `server:\n  address: "127.0.0.1:8080"\n  protocol: http\n  auth:\n    enabled: true\n    username: alice\n    password: "${password}"\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    action: server\n`);
  return path;
}

/** Runs `body` with DBUS_SESSION_BUS_ADDRESS set to `address` (the binding reads it per call), then restores it. */
async function onBus<T>(address: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = address;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
  }
}

test('keyring: a real Secret Service (gnome-keyring) stores, resolves and deletes a secret', { skip: unavailable ?? false, timeout: 60_000 }, async (t) => {
  const session = await startKeyring();
  const config = clientConfigWith('keyring:sp-test-server');
  t.after(async () => {
    await session.stop();
    rmSync(join(config, '..'), { recursive: true, force: true });
  });
  await onBus(session.address, async () => {
    assert.equal(await keyring.getPassword(KEYRING_SERVICE, 'sp-test-server'), null, 'nothing stored yet');
    await keyring.setPassword(KEYRING_SERVICE, 'sp-test-server', 'kr-Secret-1 with spaces');
    assert.equal(await keyring.getPassword(KEYRING_SERVICE, 'sp-test-server'), 'kr-Secret-1 with spaces');

    const snapshot = await resolveSecretRefs(await loadConfig(config, 'client'));
    const server = snapshot.backends.find((b) => b.name === 'server')!;
    assert.ok('auth' in server && server.auth);
    assert.equal(server.auth.password, 'kr-Secret-1 with spaces', 'the client\'s server password comes from the keyring');

    // The server role: an upstream proxy's password and an OpenVPN profile's inline password.
    await keyring.setPassword(KEYRING_SERVICE, 'sp-test-vpn', 'kr-Vpn-Secret-2');
    const dir = join(config, '..');
    writeFileSync(join(dir, 'vpn.ovpn'), 'client\ndev tun\nproto udp\nremote 192.0.2.1 1194\nauth-user-pass\n', { mode: 0o600 });
    const serverConfig = join(dir, 'server-config.yaml');
    writeFileSync(
      serverConfig,
      `server:\n  http_port: 0\nbackends:\n  - name: up\n    type: http\n    proxy: { address: "192.0.2.2:3128", username: u, password: "keyring:sp-test-server" }\n  - name: vpn\n    type: openvpn\n    openvpn:\n      config_file: vpn.ovpn\n      username: v\n      password: "keyring:sp-test-vpn"\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: up\n`,
    );
    const resolved = await resolveSecretRefs(await loadConfig(serverConfig, 'server'));
    const passwords = Object.fromEntries(resolved.backends.map((b) => [b.name, 'auth' in b ? b.auth?.password : undefined]));
    assert.deepEqual(passwords, { up: 'kr-Secret-1 with spaces', vpn: 'kr-Vpn-Secret-2' });
    assert.equal(await keyring.deletePassword(KEYRING_SERVICE, 'sp-test-vpn'), true);

    assert.equal(await keyring.deletePassword(KEYRING_SERVICE, 'sp-test-server'), true);
    assert.equal(await keyring.deletePassword(KEYRING_SERVICE, 'sp-test-server'), false, 'a second delete finds nothing');
    assert.equal(await keyring.getPassword(KEYRING_SERVICE, 'sp-test-server'), null);
    await assert.rejects(loadConfig(config, 'client').then(resolveSecretRefs), /server\.auth\.password: no secret "sp-test-server" in the OS keyring; store it with "secret set sp-test-server"/);
  });
});

test('keyring: without a Secret Service every call says so and names ${ENV} and a 0600 file instead', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-no-keyring-'));
  const config = clientConfigWith('keyring:sp-test-server');
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(config, '..'), { recursive: true, force: true });
  });
  const alternatives = /the OS keyring is not available: .+; where no keyring exists \(headless servers, CI\), put the secret in an environment variable and write "\$\{NAME\}" in the config, or in a file only the daemon's user can read \(chmod 0600\) and write "file:\/path\/to\/secret"/;
  await onBus(`unix:path=${join(dir, 'no-bus')}`, async () => {
    for (const call of [() => keyring.setPassword(KEYRING_SERVICE, 'x', 'y'), () => keyring.getPassword(KEYRING_SERVICE, 'x'), () => keyring.deletePassword(KEYRING_SERVICE, 'x')]) {
      await assert.rejects(call(), (error: Error & { code?: string }) => error.code === 'KEYRING_UNAVAILABLE' && alternatives.test(error.message));
    }
    await assert.rejects(loadConfig(config, 'client').then(resolveSecretRefs), (error: Error) => /server\.auth\.password: "keyring:sp-test-server": /.test(error.message) && alternatives.test(error.message));
  });
});
