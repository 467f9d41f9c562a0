import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox } from './cli-harness.js';

const key = (): string => randomBytes(32).toString('base64');
/** A complete bcrypt hash (of "pw", cost 4): the shape is what the config checks. */
const HASH = '$2b$04$XgS8u3mIgbl3O8R1kOvd3eRGKDwvk6K8e4y8I2FDx.qGxB0aHqS7W';

test('files holding secrets readable by group or others are warned about, as wg-quick does; chmod 600 quiets it', { timeout: 120_000 }, async (t) => {
  const box = sandbox('');
  t.after(() => box.cleanup());
  const wg = join(box.dir, 'japan.conf');
  writeFileSync(wg, `[Interface]\nPrivateKey = ${key()}\nAddress = 10.9.0.2/32\n\n[Peer]\nPublicKey = ${key()}\nEndpoint = 127.0.0.1:51820\nAllowedIPs = 0.0.0.0/0\n`);
  const ovpn = join(box.dir, 'uk.ovpn');
  writeFileSync(ovpn, 'client\ndev tun\nremote 127.0.0.1 1194\nauth-user-pass\n');
  const auth = join(box.dir, 'uk-auth.txt');
  writeFileSync(auth, 'me\nvpn-secret\n');
  writeFileSync(box.config, `server:
  http_port: 0
  socks5_port: 0
  auth:
    mode: native
    native:
      users:
        - username: alice
          password_hash: "${HASH}"
          groups: [work]
backends:
  - name: direct
    type: direct
  - name: japan
    type: wireguard
    wireguard: { config_file: japan.conf }
  - name: uk
    type: openvpn
    openvpn: { config_file: uk.ovpn, auth_file: uk-auth.txt }
rules:
  - name: all
    match: { domains: ["*"] }
    backend: direct
`);
  for (const file of [box.config, wg, ovpn, auth]) chmodSync(file, 0o644);
  const loose = await box.cli(['config', 'validate', '--config', box.config]);
  assert.equal(loose.code, 0, loose.stderr + loose.stdout);
  assert.match(loose.stdout, new RegExp(`warning: wireguard config file of backend "japan" ${wg.replace(/[.]/g, '\\.')} holds secrets and is readable by group and others \\(mode 0644\\); run "chmod 600 `));
  assert.match(loose.stdout, /warning: openvpn auth file of backend "uk" \S+uk-auth\.txt holds secrets and is readable by group and others/);
  assert.match(loose.stdout, /warning: config file \S+server-config\.yaml holds secrets and is readable by group and others \(mode 0644\)/);
  assert.doesNotMatch(loose.stdout, /uk\.ovpn holds secrets/, 'the profile itself holds no secret here');
  writeFileSync(ovpn, 'client\ndev tun\nremote 127.0.0.1 1194\nauth-user-pass\n<key>\nnot-a-real-key\n</key>\n');
  assert.match((await box.cli(['config', 'validate', '--config', box.config])).stdout, /openvpn config file of backend "uk" \S+uk\.ovpn holds secrets/, 'an inline <key> does');

  chmodSync(wg, 0o640);
  const groupOnly = await box.cli(['config', 'validate', '--config', box.config]);
  assert.match(groupOnly.stdout, /japan\.conf holds secrets and is readable by group \(mode 0640\)/);

  for (const file of [box.config, wg, ovpn, auth]) chmodSync(file, 0o600);
  const tight = await box.cli(['config', 'validate', '--config', box.config]);
  assert.equal(tight.code, 0, tight.stderr);
  assert.doesNotMatch(tight.stdout, /holds secrets/);
});

test('a password_hash that is not a complete bcrypt hash (the spec placeholder) is refused', { timeout: 60_000 }, async (t) => {
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  auth:
    mode: "native"
    native:
      users:
        - username: "user1"
          password_hash: "$2a$10$..."  # bcrypt hash
          groups: ["streaming", "work"]
`);
  t.after(() => box.cleanup());
  const result = await box.cli(['config', 'validate', '--config', box.config]);
  assert.equal(result.code, 3, result.stdout);
  assert.match(result.stderr, /:9:26: server\.auth\.native\.users\[0\]\.password_hash: expected a complete bcrypt hash/);
  const started = await box.cli(['start']);
  assert.equal(started.code, 3, 'start refuses it too');
});
