import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { hashPassword } from '../../src/auth/native-provider.js';
import { keyringUnavailable, startKeyring } from '../helpers/keyring-session.js';
import { curlVia, filesUnder, httpPort, okOrigin, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const unavailable = keyringUnavailable();
const SECRET = 'kr-Chain-Secret-5x';

test('secret set stores the client\'s server password in a real Secret Service; the daemon resolves keyring:NAME; secret delete removes it', { skip: unavailable ?? false, timeout: 120_000 }, async (t) => {
  const session = await startKeyring();
  const origin = await okOrigin();
  const serverBox = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
  auth:
    mode: native
    native:
      users:
        - username: alice
          password_hash: "${await hashPassword(SECRET)}"
${TRUSTED_LOOPBACK_YAML}`);
  const clientBox = sandbox('', 'client');
  t.after(async () => {
    await clientBox.cleanup();
    await serverBox.cleanup();
    origin.server.close();
    await session.stop();
  });
  clientBox.env.DBUS_SESSION_BUS_ADDRESS = session.address;
  assert.equal((await serverBox.cli(['start'])).code, 0);
  writeFileSync(
    clientBox.config,
    `client:\n  http_port: 0\n  socks5_port: 0\nserver:\n  address: "127.0.0.1:${httpPort(await serverBox.status())}"\n  protocol: http\n  auth:\n    enabled: true\n    username: alice\n    password: "keyring:chain-pass"\nrules:\n  - name: all via server\n    match: { domains: ["*"] }\n    action: server\n`,
  );

  const stored = await clientBox.cliWithInput(['secret', 'set', 'chain-pass', '--stdin'], `${SECRET}\n`);
  assert.equal(stored.code, 0, stored.stderr);
  assert.match(stored.stdout, /secret "chain-pass" stored in the OS keyring; refer to it as "keyring:chain-pass"/);

  const started = await clientBox.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const clientPort = httpPort(await clientBox.status());
  assert.equal(await curlVia(clientPort, `http://127.0.0.1:${origin.port}/k`), 'ok /k 200', 'the server accepted the password from the keyring');

  const deleted = await clientBox.cli(['secret', 'delete', 'chain-pass']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /secret "chain-pass" deleted/);
  const again = await clientBox.cli(['secret', 'delete', 'chain-pass']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /no secret "chain-pass" in the OS keyring/);

  const reload = await clientBox.cli(['config', 'reload']);
  assert.notEqual(reload.code, 0, 'a reference to a deleted secret is refused');
  assert.match(reload.stdout + reload.stderr, /no secret "chain-pass" in the OS keyring; store it with "secret set chain-pass"/);
  assert.equal(await curlVia(clientPort, `http://127.0.0.1:${origin.port}/still`), 'ok /still 200', 'the running config keeps serving');

  const secrets = [SECRET, Buffer.from(`alice:${SECRET}`).toString('base64')];
  for (const file of [...filesUnder(serverBox.dir), ...filesUnder(clientBox.dir)]) {
    const text = readFileSync(file, 'latin1');
    for (const secret of secrets) assert.ok(!text.includes(secret), `${file} holds the secret`);
  }
});
