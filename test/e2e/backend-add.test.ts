import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sandbox } from './cli-harness.js';

const key = (): string => randomBytes(32).toString('base64');

test('backend add writes wireguard and openvpn backends (spec form --config FILE) into the config file, with no daemon running', { timeout: 60_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\nbackends:\n  - name: direct\n    type: direct # the way out\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: direct\n');
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    writeFileSync(join(box.dir, name), text, { mode: 0o600 });
    return join(box.dir, name);
  };
  const conf = file('japan.conf', `[Interface]\nPrivateKey = ${key()}\nAddress = 10.64.0.2/32\nDNS = 10.64.0.1\n\n[Peer]\nPublicKey = ${key()}\nEndpoint = vpn.example.net:51820\nAllowedIPs = 0.0.0.0/0\n`);
  const ovpn = file('uk.ovpn', 'client\ndev tun\nproto udp\nremote vpn.example.org 1194\nauth-user-pass\n');
  const auth = file('uk-auth.txt', 'me\nsecret\n');

  // Relative paths are the caller's: the command makes them absolute from its working directory (the sandbox).
  const added = [
    await box.cli(['backend', 'add', '--name', 'japan', '--type', 'wireguard', '--config', 'japan.conf']),
    await box.cli(['backend', 'add', '--name', 'uk-vpn', '--type', 'openvpn', '--config', 'uk.ovpn', '--auth-file', 'uk-auth.txt']),
    await box.cli(['backend', 'add', '--name', 'uk-inline', '--type', 'openvpn', '--config-file', ovpn, '--username', 'me', '--password-env', 'UK_VPN_PASSWORD', '--config', box.config]),
  ];
  for (const result of added) assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(added[0].stdout, /^backend "japan" added/m);

  const text = readFileSync(box.config, 'utf8');
  assert.deepEqual((parse(text) as { backends: unknown[] }).backends, [
    { name: 'direct', type: 'direct' },
    { name: 'japan', type: 'wireguard', wireguard: { config_file: conf } },
    { name: 'uk-vpn', type: 'openvpn', openvpn: { config_file: ovpn, auth_file: auth } },
    { name: 'uk-inline', type: 'openvpn', openvpn: { config_file: ovpn, username: 'me', password: '${UK_VPN_PASSWORD}' } },
  ]);
  assert.match(text, /type: direct # the way out/, 'the rest of the file is kept as written');
  assert.ok(!text.includes('secret'), 'the password stays in its file');

  const missing = await box.cli(['backend', 'add', '--name', 'nofile', '--type', 'wireguard']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /a wireguard backend needs --config FILE/);
  box.env.UK_VPN_PASSWORD = 'from-the-environment';
  const validated = await box.cli(['config', 'validate']);
  assert.equal(validated.code, 0, validated.stderr + validated.stdout);
});
