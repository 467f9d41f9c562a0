import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox } from './cli-harness.js';

const CONFIG = 'server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n';

test('the control socket refuses a connection from another uid', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to create a throwaway user');
  if (spawnSync('sh', ['-c', 'command -v useradd && command -v runuser && command -v curl']).status !== 0) return t.skip('useradd, runuser or curl missing');
  const user = `sptest${process.pid}`;
  assert.equal(spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]).status, 0);
  t.after(() => spawnSync('userdel', [user]));
  const box = sandbox(CONFIG);
  t.after(() => box.cleanup());
  chmodSync(box.dir, 0o755);
  assert.equal((await box.cli(['start'])).code, 0);
  const socket = ((await box.status()) as unknown as { socket: string }).socket;
  const asOwner = spawnSync('curl', ['-s', '--max-time', '5', '--unix-socket', socket, 'http://control/api/status'], { encoding: 'utf8' });
  assert.match(asOwner.stdout, /"role":"server"/);
  const asOther = spawnSync('runuser', ['-u', user, '--', 'curl', '-s', '--max-time', '5', '--unix-socket', socket, 'http://control/api/status'], { encoding: 'utf8' });
  assert.notEqual(asOther.status, 0, 'another user cannot talk to the daemon');
  assert.doesNotMatch(asOther.stdout, /"role"/);
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
