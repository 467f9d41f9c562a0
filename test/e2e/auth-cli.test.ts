import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ControlClient } from '../../src/control/control-client.js';
import { verify } from '@node-rs/bcrypt';
import { filesUnder, sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

function curl(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', ...args], { timeout: 10_000 }, (_e, stdout) => resolve(stdout)));
}

test('user commands manage native users live through the daemon; no credential reaches a file or log', { timeout: 180_000 }, async (t) => {
  const site = createServer((_req, res) => res.end('ok'));
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  t.after(() => site.close());
  const sitePort = (site.address() as { port: number }).port;
  const box = sandbox(`# users are managed with "user add"
server:
  http_port: 0
  socks5_port: 0
  workers: 2
  log_level: debug
  auth:
    mode: native
${TRUSTED_LOOPBACK_YAML}access_log:
  enabled: true
  output: file
  file: access.log
debug:
  enabled: true
  log_headers: true
  log_file: traffic.log
`);
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const status = await box.status();
  const live: { type: string; record?: { user?: string }; hit?: { scope: string; user?: string; mode?: string; reason: string } }[] = [];
  const following = new AbortController();
  const followed = new ControlClient({ kind: 'socket', path: status.socket as string }, 'server').follow('events', (event) => live.push(event as (typeof live)[number]), following.signal).catch(() => undefined);
  t.after(async () => {
    following.abort();
    await followed;
  });
  const port = status.listeners.find((l) => l.kind === 'http')!.port;
  const via = ['-x', `http://127.0.0.1:${port}`];
  const url = `http://127.0.0.1:${sitePort}/`;

  const noTty = await box.cli(['user', 'add', '--username', 'john']);
  assert.notEqual(noTty.code, 0);
  assert.match(noTty.stderr, /no terminal to ask for the password on; pipe it in with --password-stdin/);

  const added = await box.cliWithInput(['user', 'add', '--username', 'john', '--groups', 'work', '--password-stdin'], 'first-Secret-1\n');
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /user "john" added and live/);
  assert.equal(await curl([...via, '-U', 'john:first-Secret-1', url]), '200', 'hot: no restart');
  assert.equal(await curl([...via, '-U', 'john:Wrong-Guess-9', url]), '407');
  assert.equal(await curl([...via, url]), '407');

  const groups = await box.cli(['user', 'groups', '--username', 'john', '--add', 'streaming', '--remove', 'work']);
  assert.equal(groups.code, 0, groups.stderr);
  const list = JSON.parse((await box.cli(['user', 'list', '--json'])).stdout) as { mode: string; users: { username: string; groups: string[] }[] };
  assert.deepEqual(list, { mode: 'native', users: [{ username: 'john', groups: ['streaming'] }], from: 'daemon' });

  const passwd = await box.cliWithInput(['user', 'passwd', '--username', 'john', '--password-stdin'], 'second-Secret-2\n');
  assert.equal(passwd.code, 0, passwd.stderr);
  assert.equal(await curl([...via, '-U', 'john:first-Secret-1', url]), '407');
  assert.equal(await curl([...via, '-U', 'john:second-Secret-2', url]), '200');

  const clients = await new ControlClient({ kind: 'socket', path: status.socket as string }, 'server').call('clients');
  assert.equal(clients.auth, 'native');
  assert.deepEqual(clients.clients.map((c) => c.user), ['john']);

  const config = readFileSync(box.config, 'utf8');
  assert.match(config, /^# users are managed with "user add"/, 'comments survive the edits');
  assert.match(config, /password_hash: \$2b\$10\$/);

  const removed = await box.cli(['user', 'remove', '--username', 'john']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await curl([...via, '-U', 'john:second-Secret-2', url]), '407');

  // The access log is written by the daemon from the workers' records: give it a moment.
  const log = join(box.dir, 'access.log');
  const deadline = Date.now() + 10_000;
  while (!readFileSync(log, { encoding: 'utf8', flag: 'a+' }).includes('"username":"john"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(readFileSync(log, 'utf8'), /"username":"john"/);
  // The name reaches the debug log and the live stream too; a failed login is in the daemon's log (from an engine worker) and the stream.
  assert.match(readFileSync(join(box.dir, 'traffic.log'), 'utf8'), /user=john/);
  assert.ok(live.some((e) => e.type === 'connection:end' && e.record?.user === 'john'), 'the live stream names the user');
  const failed = live.find((e) => e.type === 'limit:hit' && e.hit?.scope === 'auth');
  assert.deepEqual(failed?.hit && { user: failed.hit.user, mode: failed.hit.mode, reason: failed.hit.reason }, { user: 'john', mode: 'native', reason: 'failed login: wrong password' });
  assert.match(readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8'), /info refused: failed login: wrong password scope=auth client=127\.0\.0\.1 protocol=http user=john mode=native\n/);
  const secrets = ['first-Secret-1', 'second-Secret-2', 'Wrong-Guess-9', Buffer.from('john:first-Secret-1').toString('base64'), Buffer.from('john:Wrong-Guess-9').toString('base64'), Buffer.from('john:second-Secret-2').toString('base64')];
  for (const file of filesUnder(box.dir)) {
    const text = readFileSync(file, 'latin1');
    for (const secret of secrets) assert.ok(!text.includes(secret), `${file} holds a credential`);
  }

  writeFileSync(box.config, config.replace('mode: native', 'mode: none'));
  const reload = await box.cli(['config', 'reload']);
  assert.match(reload.stdout, /needs a restart to take effect: server\.auth\.mode/);
  assert.equal(await curl([...via, url]), '407', 'the running mode stays until a restart');
});

test('without an OS keyring, secret set and a daemon with a keyring: reference say so and name the alternatives', { timeout: 60_000 }, async (t) => {
  const box = sandbox('');
  t.after(() => box.cleanup());
  // A session bus that is not there: what a headless server or CI job has.
  box.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(box.dir, 'no-bus')}`;
  const alternatives = /the OS keyring is not available: .*environment variable and write "\$\{NAME\}".*chmod 0600.*"file:\/path\/to\/secret"/;
  const result = await box.cliWithInput(['secret', 'set', 'us-proxy', '--stdin'], 'upstream-Pass-3\n');
  assert.equal(result.code, 8, result.stderr);
  assert.match(result.stderr, alternatives);
  const deleted = await box.cli(['secret', 'delete', 'us-proxy']);
  assert.equal(deleted.code, 8, deleted.stderr);
  assert.match(deleted.stderr, alternatives);

  writeFileSync(
    box.config,
    'server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\nbackends:\n  - name: up\n    type: http\n    proxy: { address: "127.0.0.1:9", username: u, password: "keyring:us-proxy" }\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: up\n',
  );
  const refused = await box.cli(['start']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /backends\[0\]\.proxy\.password: "keyring:us-proxy": /);
  assert.match(refused.stdout + refused.stderr, alternatives);
  for (const file of filesUnder(box.dir)) assert.ok(!readFileSync(file, 'latin1').includes('upstream-Pass-3'), `${file} holds the secret`);
});

test('the daemon resolves file: secret references (0600 only) for upstream passwords', { timeout: 60_000 }, async (t) => {
  const box = sandbox('');
  t.after(() => box.cleanup());
  const secretFile = join(box.dir, 'up.pass');
  writeFileSync(secretFile, 'pw\n', { mode: 0o644 });
  writeFileSync(
    box.config,
    `server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\nbackends:\n  - name: up\n    type: http\n    proxy: { address: "127.0.0.1:9", username: u, password: "file:${secretFile}" }\nrules:\n  - name: all\n    match: { domains: ["*"] }\n    backend: up\n`,
  );
  const refused = await box.cli(['start']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /up\.pass is readable by others \(mode 644\); chmod 600 it/);
});

/** Runs the server bin on a terminal (util-linux `script` gives it a pty) and types each answer once the prompt before it shows; returns what the terminal showed. */
function onTerminal(box: Sandbox, args: string[], answers: { after: RegExp; type: string }[]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, join(import.meta.dirname, '../../bin/simple-proxy-server.js'), ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: box.env, cwd: box.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let next = 0;
  let typedUpTo = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    const answer = answers[next];
    // Typed only after its prompt: a key sent earlier would meet a terminal that still echoes.
    if (answer && answer.after.test(screen.slice(typedUpTo))) {
      typedUpTo = screen.length;
      next++;
      child.stdin.write(answer.type);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    }),
  );
}

test('user add and passwd ask for the password on a terminal with echo off, twice', { skip: spawnSync('script', ['--version']).status === 0 ? false : 'no util-linux script here (it gives the CLI a terminal)', timeout: 60_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\n  auth:\n    mode: native\n');
  t.after(() => box.cleanup());
  const typed = 'Typed-Secret-6';
  const added = await onTerminal(box, ['user', 'add', '--username', 'eve', '--groups', 'work', '--config', box.config], [
    { after: /Password: $/, type: `${typed}\r` },
    { after: /Repeat the password: $/, type: `${typed}\r` },
  ]);
  assert.equal(added.code, 0, added.screen);
  assert.match(added.screen, /Password: [^]*Repeat the password: [^]*user "eve" added/);
  assert.ok(!added.screen.includes(typed), `the terminal showed the password: ${added.screen}`);
  const hash = /password_hash: "?(\$2b\$10\$[./A-Za-z0-9]{53})/.exec(readFileSync(box.config, 'utf8'))?.[1];
  assert.ok(hash && (await verify(typed, hash)), 'the hash of what was typed is stored');

  const differ = await onTerminal(box, ['user', 'passwd', '--username', 'eve', '--config', box.config], [
    { after: /New password: $/, type: 'One-Secret\r' },
    { after: /Repeat the new password: $/, type: 'Other-Secret\r' },
  ]);
  assert.notEqual(differ.code, 0);
  assert.match(differ.screen, /the two new passwords differ/);
  assert.ok(!differ.screen.includes('One-Secret') && !differ.screen.includes('Other-Secret'), differ.screen);
  assert.ok(readFileSync(box.config, 'utf8').includes(hash!), 'a mismatch changes nothing');
});
