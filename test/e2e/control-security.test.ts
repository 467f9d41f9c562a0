import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sandbox } from './cli-harness.js';

const CONFIG = 'server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n';

/** Why a test that needs a throwaway user cannot run here, or null. */
function noThrowawayUser(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create a throwaway user';
  if (spawnSync('sh', ['-c', 'command -v useradd && command -v runuser && command -v curl']).status !== 0) return 'useradd, runuser or curl missing';
  return null;
}

/** Creates a user with no home and no shell for one test (removed after it); its name and uid. */
function throwawayUser(t: TestContext, tag: string): { name: string; uid: number } {
  const name = `sp${tag}${process.pid}`;
  assert.equal(spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name]).status, 0);
  t.after(() => spawnSync('userdel', [name]));
  return { name, uid: Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim()) };
}

/** A control API call through the socket with curl, run as `user` (or as this process's user). */
function curlSocket(socket: string, method: string, path: string, user?: string): { status: number | null; stdout: string } {
  const curl = ['curl', '-s', '--max-time', '10', '-X', method, '--unix-socket', socket, `http://control${path}`];
  return spawnSync(user ? 'runuser' : curl[0], user ? ['-u', user, '--', ...curl] : curl.slice(1), { encoding: 'utf8' });
}

test('the control socket refuses a connection from another uid', { timeout: 120_000 }, async (t) => {
  const missing = noThrowawayUser();
  if (missing) return t.skip(missing);
  const user = throwawayUser(t, 'test').name;
  const box = sandbox(CONFIG);
  t.after(() => box.cleanup());
  chmodSync(box.dir, 0o755);
  assert.equal((await box.cli(['start'])).code, 0);
  const socket = ((await box.status()) as unknown as { socket: string }).socket;
  assert.match(curlSocket(socket, 'GET', '/api/status').stdout, /"role":"server"/);
  const asOther = curlSocket(socket, 'GET', '/api/status', user);
  assert.notEqual(asOther.status, 0, 'another user cannot talk to the daemon');
  assert.doesNotMatch(asOther.stdout, /"role"/);
});

test('the audit line of a change through the socket names the uid of the process that made it (its peer credentials), not the daemon\'s', { timeout: 120_000 }, async (t) => {
  const missing = noThrowawayUser();
  if (missing) return t.skip(missing);
  const other = throwawayUser(t, 'audit');
  const box = sandbox(CONFIG);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const socket = ((await box.status()) as unknown as { socket: string }).socket;
  // Root changes something with the CLI.
  assert.equal((await box.cli(['debug', 'on'])).code, 0);
  // The socket is owner-only (0600 in a 0700 directory): the test opens it to the other user
  // (directories searchable, socket writable by all) so that user can make a change too.
  chmodSync(box.dir, 0o711);
  chmodSync(dirname(socket), 0o711);
  chmodSync(socket, 0o666);
  const asOther = curlSocket(socket, 'POST', '/api/debug/disable', other.name);
  assert.equal(asOther.status, 0, asOther.stdout);
  assert.match(asOther.stdout, /"enabled":false/);
  const lines = readFileSync(join(box.dir, 'state', 'server', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; uid: number | null; remote: string });
  assert.deepEqual(lines.map((l) => [l.action, l.uid, l.remote]), [
    ['debugEnable', 0, 'local'],
    ['debugDisable', other.uid, 'local'],
  ]);
  const tail = await box.cli(['audit', 'tail']);
  assert.match(tail.stdout, new RegExp(`uid ${other.uid} from local {2}POST /api/debug/disable`));
});

test('shell completion: scripts for bash, zsh and PowerShell name the role bin, and bash completes commands', { timeout: 120_000 }, async (t) => {
  const box = sandbox(CONFIG);
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  for (const shell of ['bash', 'zsh', 'powershell']) {
    const result = await box.cli(['autocomplete', 'script', shell], 'client');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /SIMPLE_PROXY_CLIENT_AC_|simple-proxy-client\/autocomplete/, shell);
    assert.doesNotMatch(result.stdout, /SIMPLE_PROXY_SERVER/, shell);
  }
  const refresh = await box.cli(['autocomplete', '--refresh-cache'], 'client');
  assert.equal(refresh.code, 0, refresh.stderr);
  const setup = join(box.dir, 'cache', 'simple-proxy-client', 'autocomplete', 'bash_setup');
  const complete = (words: string) =>
    spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=($2 ""); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _simple-proxy-client_autocomplete; echo "\${COMPREPLY[*]}"`, 'bash', setup, words], { encoding: 'utf8' });
  const topics = complete('simple-proxy-client');
  assert.equal(topics.status, 0, topics.stderr);
  for (const command of ['rule', 'backend', 'config', 'start', 'stop', 'status']) assert.match(topics.stdout, new RegExp(`\\b${command}\\b`));
  assert.deepEqual(complete('simple-proxy-client rule').stdout.trim().split(' ').sort(), ['add', 'list', 'remove', 'reorder', 'test', 'update']);
});

test('config reload --dry-run lists what would change and applies nothing', { timeout: 120_000 }, async (t) => {
  const box = sandbox(`${CONFIG}rules:\n  - { name: a, match: { domains: ["a.test"] }, backend: direct }\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const before = ((await box.status()).config as { version: string }).version;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(box.config, `server:\n  http_port: 1\n  socks5_port: 0\n  workers: 1\nbackends:\n  - { name: direct, type: direct }\n  - { name: up, type: http, proxy: { address: "127.0.0.1:9" } }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n  - { name: b, match: { domains: ["b.test"] }, backend: up }\n`);
  const dry = await box.cli(['config', 'reload', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would reload: version \w+ -> \w+$/m);
  assert.match(dry.stdout, /^ {2}rules added: b$/m);
  assert.match(dry.stdout, /^ {2}rules removed: a$/m);
  assert.match(dry.stdout, /^ {2}backends added: up$/m);
  assert.match(dry.stdout, /^needs a restart to take effect: listeners \(ports, bind address\)$/m);
  assert.equal(((await box.status()).config as { version: string }).version, before, 'nothing applied');
  const listenersBefore = (await box.status()).listeners;

  // Applied for real: the rules change now, the port change is named (reply and log) and waits for a restart.
  const applied = await box.cli(['config', 'reload']);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /^reloaded: version \w+ -> \w+$/m);
  assert.match(applied.stdout, /^needs a restart to take effect: listeners \(ports, bind address\)$/m);
  const after = await box.status();
  assert.notEqual((after.config as { version: string }).version, before);
  assert.deepEqual(after.listeners, listenersBefore, 'the listeners stay where they were');
  assert.match(readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8'), /changed settings need a restart to take effect: listeners \(ports, bind address\)/);
});
