import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { sandbox } from './cli-harness.js';

const OPEN_RELAY = 'server-config.yaml: refusing to start an open proxy: server.bind_address 0.0.0.0 is reachable from other hosts';

test('the spec 3.1 example fails config validate exactly as start refuses it (the open-relay guard), with the tunnel files in the same report under --strict', { timeout: 120_000 }, async (t) => {
  const box = sandbox('');
  t.after(() => box.cleanup());
  const example = resolve(import.meta.dirname, '../../examples/server-config.yaml');
  const validated = await box.cli(['config', 'validate', '--config', example]);
  assert.equal(validated.code, 3, validated.stdout);
  assert.ok(validated.stderr.includes(`  ${OPEN_RELAY}`), validated.stderr);
  const strict = await box.cli(['config', 'validate', '--strict', '--config', example]);
  assert.equal(strict.code, 3);
  assert.match(strict.stderr, /^Error: config is invalid \(4 problems\):$/m);
  assert.match(strict.stderr, /server-config\.yaml:135:20: backends\[3\]\.openvpn\.config_file: openvpn config file \/path\/to\/uk\.ovpn cannot be read/);
  const started = await box.cli(['start', '--config', example]);
  assert.equal(started.code, 3);
  assert.ok(started.stderr.includes(OPEN_RELAY.replace('server-config.yaml: ', '')), started.stderr);
});

test('config validate reports every problem start would refuse in one run: open relay, TLS files, an access log that cannot be written, a wrong reference and a tunnel file; a port in use is a warning', { timeout: 120_000 }, async (t) => {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.after(() => busy.close());
  const busyPort = (busy.address() as { port: number }).port;
  const box = sandbox('');
  t.after(() => box.cleanup());
  writeFileSync(join(box.dir, 'not-a-dir'), '');
  const config = (extra: string): string => `server:
  http_port: 0
  socks5_port: 0
  workers: 1
${extra}backends:
  - { name: direct, type: direct }
  - name: vpn
    type: wireguard
    wireguard: { config_file: missing.conf }
rules:
  - { name: Default, match: { domains: ["*"] }, backend: direct }
`;
  const parts = {
    relay: '  bind_address: "0.0.0.0"\n',
    tls: '  tls:\n    cert_file: no-such.crt\n    key_file: no-such.key\n',
    log: 'access_log:\n  enabled: true\n  output: file\n  file: not-a-dir/access.log\n',
  };
  writeFileSync(box.config, config(`${parts.relay}${parts.tls}${parts.log}`).replace('backend: direct }\n', 'backend: drect }\n'));
  const all = await box.cli(['config', 'validate', '--strict']);
  assert.equal(all.code, 3, all.stdout);
  const lines = all.stderr.trim().split('\n');
  assert.equal(lines[0], 'Error: config is invalid (5 problems):', all.stderr);
  for (const expected of [
    /refusing to start an open proxy/,
    /no-such\.crt/,
    /access_log\.file: .*not-a-dir\/access\.log cannot be created: .*not-a-dir is not a directory/,
    /rules\[0\]\.backend: unknown backend "drect" \(did you mean "direct"\?\)/,
    /backends\[1\]\.wireguard\.config_file: wireguard config file .*missing\.conf cannot be read/,
  ]) assert.ok(lines.some((line) => expected.test(line)), `${expected} in\n${all.stderr}`);

  // Each of the start-time problems alone: validate refuses it, and so does start.
  for (const part of Object.values(parts)) {
    writeFileSync(box.config, config(part));
    const validated = await box.cli(['config', 'validate']);
    assert.equal(validated.code, 3, `validate: ${part}`);
    const started = await box.cli(['start']);
    assert.notEqual(started.code, 0, `start: ${part}`);
  }

  // A port in use now is a warning; a missing log directory is created by start.
  writeFileSync(box.config, config(`access_log:\n  enabled: true\n  output: file\n  file: logs/new/access.log\n`).replace('http_port: 0', `http_port: ${busyPort}\n  bind_address: 127.0.0.1`));
  const warned = await box.cli(['config', 'validate']);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stdout, new RegExp(`^warning: http listener 127\\.0\\.0\\.1:${busyPort}: the port is in use now; start fails unless it is free by then$`, 'm'));
  busy.close();
  await once(busy, 'close');
  mkdirSync(join(box.dir, 'logs'));
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  assert.ok(existsSync(join(box.dir, 'logs', 'new', 'access.log')), 'start created the log directory');
});

test('config validate warns about a file a backend reads when it connects (the client\'s CA file)', { timeout: 60_000 }, async (t) => {
  const box = sandbox('client:\n  http_port: 0\n  socks5_port: 0\nserver:\n  address: "127.0.0.1:9"\n  protocol: https\n  tls: { ca_file: missing-ca.pem }\n', 'client');
  t.after(() => box.cleanup());
  const validated = await box.cli(['config', 'validate']);
  assert.equal(validated.code, 0, validated.stderr);
  assert.match(validated.stdout, /^warning: backend "server": server\.tls\.ca_file \/.*\/missing-ca\.pem cannot be read \(no such file\); its connections would fail$/m);
});

test('an unset variable and a wrong key are reported in the same run', { timeout: 60_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  http_prot: 1\nbackends:\n  - name: up\n    type: http\n    proxy:\n      address: "127.0.0.1:3128"\n      password: "${SP_E2E_UNSET_PASS}"\n');
  t.after(() => box.cleanup());
  delete box.env.SP_E2E_UNSET_PASS;
  const validated = await box.cli(['config', 'validate']);
  assert.equal(validated.code, 3);
  assert.equal(
    validated.stderr.trim(),
    [
      'Error: config is invalid (2 problems):',
      '  server-config.yaml:3:3: server.http_prot: unknown key (did you mean "http_port"?) (expected one of: http_port, socks5_port, bind_address, sniff, web_ui_port, log_level, workers, tls, proxy_protocol, auth)',
      '  server-config.yaml:9:17: environment variable SP_E2E_UNSET_PASS is not set (used as ${SP_E2E_UNSET_PASS})',
    ].join('\n'),
  );
});
