import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox } from './cli-harness.js';

const key = (): string => randomBytes(32).toString('base64');
const CONFIG = 'server:\n  http_port: 0\n  socks5_port: 0\nbackends:\n  - name: direct\n    type: direct\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n';

test('backend add refuses a tunnel whose files are missing or invalid, with the reason; --force adds it with the reason as a warning', { timeout: 120_000 }, async (t) => {
  const box = sandbox(CONFIG);
  t.after(() => box.cleanup());
  writeFileSync(join(box.dir, 'bad.conf'), `[Interface]\nPrivateKey = not-a-key\nAddress = 10.64.0.2/32\n\n[Peer]\nPublicKey = ${key()}\nEndpoint = 127.0.0.1:51820\nAllowedIPs = 0.0.0.0/0\n`, { mode: 0o600 });
  writeFileSync(join(box.dir, 'uk.ovpn'), 'client\ndev tun\nremote 127.0.0.1 1194\nauth-user-pass\n', { mode: 0o600 });

  // No daemon: the edit goes to the file, which must stay as it was.
  const missing = await box.cli(['backend', 'add', '--name', 'japan', '--type', 'wireguard', '--config', 'japan.conf']);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /backend "japan" not added: wireguard config file \S+japan\.conf cannot be read \(no such file\) \(--force adds it anyway/);
  const invalid = await box.cli(['backend', 'add', '--name', 'japan', '--type', 'wireguard', '--config', 'bad.conf']);
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.match(invalid.stderr, /bad\.conf: line 2: PrivateKey is not a base64 WireGuard key/);
  assert.equal(readFileSync(box.config, 'utf8'), CONFIG, 'nothing written');

  // Through the running daemon too.
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const noAuth = await box.cli(['backend', 'add', '--name', 'uk', '--type', 'openvpn', '--config', 'uk.ovpn', '--auth-file', 'uk-auth.txt']);
  assert.equal(noAuth.code, 2, noAuth.stderr);
  assert.match(noAuth.stderr, /backend "uk" not added: openvpn auth file \S+uk-auth\.txt cannot be read \(no such file\)/);
  assert.equal(readFileSync(box.config, 'utf8'), CONFIG, 'nothing written');

  const forced = await box.cli(['backend', 'add', '--name', 'japan', '--type', 'wireguard', '--config', 'bad.conf', '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  const answer = JSON.parse(forced.stdout) as { warnings: string[] };
  assert.match(answer.warnings[0], /^backend "japan" is unavailable: \S+bad\.conf: line 2: PrivateKey is not a base64 WireGuard key$/);
  const list = JSON.parse((await box.cli(['backend', 'list', '--json'])).stdout) as { backends: { name: string; status: string; reason?: string }[] };
  const japan = list.backends.find((b) => b.name === 'japan');
  assert.equal(japan?.status, 'unavailable');
  assert.match(japan?.reason ?? '', /PrivateKey is not a base64 WireGuard key/);
});
