import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ControlClient } from '../../src/control/control-client.js';
import { curlVia, httpPort, okOrigin, sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const CONFIG = `# config-cli e2e: keep this comment
server:
  http_port: 0      # any free port
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct    # the way out
    type: direct
  - name: dead
    type: http
    proxy:
      address: "127.0.0.1:1"
      username: proxyuser
      password: "\${UP_PASS}"
rules:
  - name: Parked
    match:
      domains: ["parked.invalid"]
    backend: dead
  - name: Default
    match:
      domains: ["*"]
    backend: direct
`;

/** The comments a person wrote are still in the file. */
function assertCommentsKept(box: Sandbox): void {
  const text = readFileSync(box.config, 'utf8');
  assert.ok(text.startsWith('# config-cli e2e: keep this comment\n'), 'the leading comment');
  assert.match(text, /http_port: 0 {6}# any free port/);
  assert.match(text, /- name: direct {4}# the way out/);
}

/** The config file was replaced by a rename (a new inode) and no temp file was left beside it. */
function assertReplacedAtomically(box: Sandbox, inodeBefore: number): void {
  assert.notEqual(statSync(box.config).ino, inodeBefore, 'written to a temp file and renamed over the config');
  assert.deepEqual(readdirSync(box.dir).filter((name) => name.endsWith('.tmp') || name.endsWith('.lock')), [], 'no temp or lock file left');
}

function configSandbox(): Sandbox {
  const box = sandbox(CONFIG);
  box.env.UP_PASS = 'env-s3cret-pass';
  return box;
}

test('with a daemon: backend add/remove and rule update rewrite the file atomically with comments kept and reload; config show masks secrets; GET /api/stats counts', { timeout: 180_000 }, async (t) => {
  const o = await okOrigin();
  t.after(() => o.server.close());
  const box = configSandbox();
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const status = await box.status();
  const port = httpPort(status);
  const control = new ControlClient({ kind: 'socket', path: (status as unknown as { socket: string }).socket }, 'server');
  const reloads = async (): Promise<number> => ((await box.status()).reloads as { total: number }).total;
  const backendNames = async (): Promise<string[]> => (JSON.parse((await box.cli(['backend', 'list', '--json'])).stdout) as { backends: { name: string }[] }).backends.map((b) => b.name);

  let inode = statSync(box.config).ino;
  const added = await box.cli(['backend', 'add', '--name', 'extra', '--type', 'socks5', '--address', '127.0.0.1:1081', '--json']);
  assert.equal(added.code, 0, added.stderr);
  assert.equal((JSON.parse(added.stdout) as { via: string }).via, 'daemon');
  assertReplacedAtomically(box, inode);
  assertCommentsKept(box);
  assert.match(readFileSync(box.config, 'utf8'), /- name: extra\n {4}type: socks5\n {4}proxy:\n {6}address: 127\.0\.0\.1:1081\n/);
  assert.deepEqual(await backendNames(), ['direct', 'dead', 'extra'], 'the daemon reloaded');
  assert.equal(await reloads(), 1);

  inode = statSync(box.config).ino;
  const removed = await box.cli(['backend', 'remove', '--name', 'extra']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /^backend "extra" removed \(config version [0-9a-f]{12}\)$/m);
  assertReplacedAtomically(box, inode);
  assertCommentsKept(box);
  assert.ok(!readFileSync(box.config, 'utf8').includes('extra'));
  assert.deepEqual(await backendNames(), ['direct', 'dead']);
  assert.equal(await reloads(), 2);

  const before = readFileSync(box.config, 'utf8');
  inode = statSync(box.config).ino;
  const inUse = await box.cli(['backend', 'remove', '--name', 'dead']);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /^Error: backend "dead" is used by rule "Parked"; remove or change those rules first$/m);
  assert.equal(readFileSync(box.config, 'utf8'), before, 'a refused edit leaves the file alone');
  assert.equal(statSync(box.config).ino, inode);
  assert.equal(await reloads(), 2);

  const url = `http://localhost:${o.port}/u`;
  assert.equal(await curlVia(port, url), 'ok /u 200');
  const moved = await box.cli(['rule', 'update', '--name', 'Parked', '--domain', 'localhost']);
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /^rule "Parked" updated \(config version [0-9a-f]{12}\)$/m);
  assert.match(await curlVia(port, url), /upstream 127\.0\.0\.1:1: connection refused\n 502$/, 'live traffic takes the updated rule');
  const changed = await box.cli(['rule', 'update', '--name', 'Parked', '--backend', 'direct', '--new-name', 'Local', '--position', '1', '--allow-shadowed']);
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(await curlVia(port, url), 'ok /u 200');
  assert.match((await box.cli(['rule', 'list'])).stdout, /^#\s+NAME\s+BACKEND\s+DOMAINS\n0\s+Default\s+direct\s+\*\n1\s+Local\s+direct\s+localhost$/m);
  assertCommentsKept(box);

  const shown = await box.cli(['config', 'show']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(!shown.stdout.includes('env-s3cret-pass'), 'the password never appears');
  assert.match(shown.stdout, /^# .*server-config\.yaml \(version [0-9a-f]{12}\)$/m);
  assert.match(shown.stdout, /username: proxyuser\n\s+password: "\*\*\*"/);
  const shownJson = JSON.parse((await box.cli(['config', 'show', '--json'])).stdout) as { config: { backends: { proxy?: { password?: string } }[] } };
  assert.equal(shownJson.config.backends[1].proxy?.password, '***');
  const offline = await box.cli(['config', 'show', '--config', box.config]);
  assert.ok(!offline.stdout.includes('env-s3cret-pass') && offline.stdout.includes('password: "***"'), 'the file read without the daemon is masked too');

  const stats = await control.call('stats');
  assert.ok(Math.abs(stats.startedAt - Date.now()) < 120_000, `startedAt ${stats.startedAt}`);
  assert.ok(stats.connectionsTotal >= 3, `connectionsTotal ${stats.connectionsTotal}`);
  assert.deepEqual(stats.backends.dead, { active: 0, total: 1, errors: 1 });
  assert.deepEqual(stats.backends.direct, { active: 0, total: 2, errors: 0 });
  assert.deepEqual(stats.reloads, { total: 4, errors: 0 });
});

test('without a daemon: edits go to the file (validated, atomic, comments kept); with no config file at all the edit says how to get one', { timeout: 120_000 }, async () => {
  const box = configSandbox();
  let inode = statSync(box.config).ino;
  const added = await box.cli(['rule', 'add', '--name', 'Work', '--domain', '*.corp.test', '--backend', 'direct', '--position', '0', '--json']);
  assert.equal(added.code, 0, added.stderr);
  const outcome = JSON.parse(added.stdout) as { via: string; path: string };
  assert.deepEqual([outcome.via, outcome.path], ['file', box.config]);
  assertReplacedAtomically(box, inode);
  assertCommentsKept(box);
  assert.match(readFileSync(box.config, 'utf8'), /^rules:\n {2}- name: Work\n/m);

  inode = statSync(box.config).ino;
  const backend = await box.cli(['backend', 'add', '--name', 'corp', '--type', 'http', '--address', '127.0.0.1:3128']);
  assert.equal(backend.code, 0, backend.stderr);
  assert.match(backend.stdout, /^backend "corp" added \(config version [0-9a-f]{12}\)$/m);
  assertReplacedAtomically(box, inode);
  assert.equal((await box.cli(['config', 'validate'])).code, 0);

  const before = readFileSync(box.config, 'utf8');
  const bad = await box.cli(['rule', 'update', '--name', 'Work', '--backend', 'nowhere']);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /rules\[0\]\.backend: unknown backend "nowhere"/);
  assert.equal(readFileSync(box.config, 'utf8'), before, 'the invalid edit left the file alone');

  // No daemon and nothing to discover: not --config, $SIMPLE_PROXY_CONFIG, ./server-config.yaml or the user config dir.
  unlinkSync(box.config);
  delete box.env.SIMPLE_PROXY_CONFIG;
  box.env.XDG_CONFIG_HOME = join(box.dir, 'empty-config-home');
  mkdirSync(box.env.XDG_CONFIG_HOME);
  const nowhere = await box.cli(['rule', 'add', '--name', 'X', '--domain', 'x.test', '--backend', 'direct']);
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.stderr, /^Error: no daemon is running and no config file was found; create one with "simple-proxy-server config init" or pass --config FILE$/m);
});

test('metrics enabled without a port: config validate and start say there is nothing to scrape', { timeout: 120_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\nmetrics:\n  enabled: true\n');
  t.after(() => box.cleanup());
  const warning = 'warning: metrics.enabled is true but metrics.port is not set: metrics are served only on the control socket (GET /metrics), with no address for Prometheus to scrape and no /health endpoints; set metrics.port (for example 9090) to serve them';
  const validated = await box.cli(['config', 'validate']);
  assert.equal(validated.code, 0, validated.stderr);
  assert.ok(validated.stdout.split('\n').includes(warning), validated.stdout);
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  assert.ok(started.stdout.split('\n').includes(warning), started.stdout);
});

test('config validate on the spec examples (bound to loopback, as the open-relay guard asks): valid with warnings naming the missing tunnel files; --strict makes them errors with file, line and column', { timeout: 120_000 }, async (t) => {
  const box = sandbox('');
  t.after(() => box.cleanup());
  const spec = resolve(import.meta.dirname, '../../examples/server-config.yaml');
  const example = box.config;
  writeFileSync(example, readFileSync(spec, 'utf8').replace('bind_address: "0.0.0.0"', 'bind_address: "127.0.0.1"'));
  const unavailable = [
    'backend "germany" is unavailable: wireguard config file /path/to/germany.conf cannot be read (no such file)',
    'backend "japan" is unavailable: wireguard config file /path/to/japan.conf cannot be read (no such file)',
    'backend "uk-vpn" is unavailable: openvpn config file /path/to/uk.ovpn cannot be read (no such file)',
  ];
  const lenient = await box.cli(['config', 'validate', '--config', example]);
  assert.equal(lenient.code, 0, lenient.stderr);
  const [head, ...warnings] = lenient.stdout.trimEnd().split('\n');
  assert.ok(head.startsWith(`${example}: valid (version `) && head.endsWith(', 6 backends, 4 rules)'), head);
  assert.deepEqual(warnings.slice(0, 3), unavailable.map((w) => `warning: ${w}`));

  const strict = await box.cli(['config', 'validate', '--strict', '--config', spec]);
  assert.equal(strict.code, 3);
  assert.equal(
    strict.stderr.trim(),
    [
      'Error: config is invalid (4 problems):',
      '  server-config.yaml: refusing to start an open proxy: server.bind_address 0.0.0.0 is reachable from other hosts, server.auth.mode is "none" and access_control.whitelist is empty; list the allowed client networks in access_control.whitelist, enable server.auth, bind to 127.0.0.1, or set access_control.allow_open_relay: true to serve everyone on purpose',
      '  server-config.yaml:108:20: backends[1].wireguard.config_file: wireguard config file /path/to/germany.conf cannot be read (no such file)',
      '  server-config.yaml:124:20: backends[2].wireguard.config_file: wireguard config file /path/to/japan.conf cannot be read (no such file)',
      '  server-config.yaml:135:20: backends[3].openvpn.config_file: openvpn config file /path/to/uk.ovpn cannot be read (no such file)',
    ].join('\n'),
  );
});

test('client role: rule add/update with --action server|direct and a repeated --domain, live through the daemon; --backend and unknown actions are refused', { timeout: 120_000 }, async (t) => {
  const o = await okOrigin();
  t.after(() => o.server.close());
  const box = sandbox('# my client\nclient:\n  http_port: 0\n  socks5_port: 0\nserver:\n  address: "127.0.0.1:9"   # nothing listens here\n  protocol: http\nrules:\n  - name: Default\n    match: { domains: ["*"] }\n    action: direct\n', 'client');
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const port = httpPort(await box.status());
  const url = `http://localhost:${o.port}/c`;
  assert.equal(await curlVia(port, url), 'ok /c 200');

  const added = await box.cli(['rule', 'add', '--name', 'Work', '--domain', 'localhost', '--domain', '*.corp.test', '--action', 'server', '--position', '0']);
  assert.equal(added.code, 0, added.stderr);
  assert.match((await box.cli(['rule', 'list'])).stdout, /^#\s+NAME\s+ACTION\s+DOMAINS\n0\s+Work\s+server\s+localhost, \*\.corp\.test\n1\s+Default\s+direct\s+\*$/m);
  assert.match(await curlVia(port, url), / 502$/, 'localhost now goes to the (unreachable) server');

  const updated = await box.cli(['rule', 'update', '--name', 'Work', '--action', 'direct']);
  assert.equal(updated.code, 0, updated.stderr);
  assert.equal(await curlVia(port, url), 'ok /c 200', 'and directly again');
  const file = readFileSync(box.config, 'utf8');
  assert.ok(file.startsWith('# my client\n'), file);
  assert.match(file, /address: "127\.0\.0\.1:9" {3}# nothing listens here/);
  assert.match(file, /- name: Work\n {4}match:\n {6}domains:\n {8}- localhost\n {8}- "\*\.corp\.test"\n {4}action: direct\n/);

  const backend = await box.cli(['rule', 'add', '--name', 'X', '--domain', 'x.test', '--backend', 'foo']);
  assert.equal(backend.code, 2, 'the daemon refused a malformed edit: a usage error, as from the command itself');
  assert.match(backend.stderr, /^Error: client rules take --action server\|direct\|reject, not --backend$/m);
  const bogus = await box.cli(['rule', 'add', '--name', 'Y', '--domain', 'y.test', '--action', 'bogus']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /Expected --action=bogus to be one of: server, direct/);
  assert.equal(readFileSync(box.config, 'utf8'), file, 'refused edits leave the file alone');
});
