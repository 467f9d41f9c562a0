import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sandbox, type CliResult } from './cli-harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs a bin with a given environment (for SIMPLE_PROXY_SOCKET pointing at another daemon). */
function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

/** The TOPICS section of a root help: topic name to its description. */
function topics(help: string): Map<string, string> {
  const section = help.split('TOPICS\n')[1]?.split('\n\n')[0] ?? '';
  return new Map([...section.matchAll(/^ {2}(\S+)\s+(.+)$/gm)].map((m) => [m[1], m[2]]));
}

test('help gives each topic its own description and the client bin shows only client commands', { timeout: 120_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\n');
  t.after(() => box.cleanup());
  const server = await box.cli(['--help'], 'server');
  const client = await box.cli(['--help'], 'client');
  assert.equal(server.code, 0, server.stderr);
  assert.equal(client.code, 0, client.stderr);
  const serverTopics = topics(server.stdout);
  assert.ok(serverTopics.has('user') && serverTopics.has('backend'), server.stdout);
  // A topic is described as itself, not by the summary of whichever of its commands came first.
  assert.match(serverTopics.get('config')!, /config file/);
  assert.doesNotMatch(serverTopics.get('debug')!, /^Forget/);
  assert.doesNotMatch(serverTopics.get('backend')!, /^Add a backend/);
  assert.equal(new Set(serverTopics.values()).size, serverTopics.size, 'descriptions differ');

  assert.ok(!topics(client.stdout).has('user'), `client help lists no user commands:\n${client.stdout}`);
  const clientBackend = await box.cli(['backend', '--help'], 'client');
  assert.match(clientBackend.stdout, /backend list/);
  assert.doesNotMatch(clientBackend.stdout, /backend (add|remove)/);
  assert.match((await box.cli(['backend', '--help'], 'server')).stdout, /backend add/);

  const wrongRole = await box.cli(['user', 'add', '--username', 'x', '--password-stdin'], 'client');
  assert.equal(wrongRole.code, 2);
  assert.match(wrongRole.stderr, /"user add" is not a client command; run it as "simple-proxy-server user add"/);
  const wrongTopic = await box.cli(['user'], 'client');
  assert.equal(wrongTopic.code, 2);
  assert.match(wrongTopic.stderr, /simple-proxy-server user/);
});

test('a mistyped command suggests the nearest one as typed, never an internal id, and exits 2', { timeout: 120_000 }, async (t) => {
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\n');
  t.after(() => box.cleanup());
  const cases: [string[], 'server' | 'client', RegExp][] = [
    [['stauts'], 'server', /unknown command "stauts" \(did you mean "status"\?\)/],
    [['stauts'], 'client', /unknown command "stauts" \(did you mean "status"\?\)/],
    [['rule', 'ad', '--name', 'x'], 'server', /unknown command "rule ad" \(did you mean "rule add"\?\)/],
    [['backend', 'lsit'], 'client', /unknown command "backend lsit" \(did you mean "backend list"\?\)/],
    [['frobnicate'], 'server', /unknown command "frobnicate"; "simple-proxy-server --help" lists the commands/],
  ];
  for (const [args, role, expected] of cases) {
    const result = await box.cli(args, role);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.doesNotMatch(result.stderr, /\w:\w/, 'no internal command id');
  }
});

test('README documents the socket and state variables; two daemons of one role run side by side with them', { timeout: 180_000 }, async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['SIMPLE_PROXY_SOCKET', 'SIMPLE_PROXY_RUNTIME_DIR', 'SIMPLE_PROXY_STATE_DIR']) assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), `README table documents ${name}`);
  assert.match(readme, /Two daemons of one role run side by side/);

  const first = sandbox('server:\n  http_port: 0\n  socks5_port: 0\nrules:\n  - name: first-daemon\n    match: { domains: ["*"] }\n    backend: direct\n');
  const second = sandbox('server:\n  http_port: 0\n  socks5_port: 0\nrules:\n  - name: second-daemon\n    match: { domains: ["*"] }\n    backend: direct\n');
  t.after(() => Promise.all([first.cleanup(), second.cleanup()]));
  for (const box of [first, second]) {
    const started = await box.cli(['start']);
    assert.equal(started.code, 0, started.stderr + started.stdout);
  }
  const [a, b] = [await first.status(), await second.status()];
  assert.notEqual(a.pid, b.pid);
  // The second daemon's socket, reached from the first one's environment through SIMPLE_PROXY_SOCKET.
  const viaSocket = await runBin('simple-proxy-server', ['rule', 'list'], { ...first.env, SIMPLE_PROXY_SOCKET: b.socket as string });
  assert.equal(viaSocket.code, 0, viaSocket.stderr);
  assert.match(viaSocket.stdout, /second-daemon/);
  assert.match((await first.cli(['rule', 'list'])).stdout, /first-daemon/);
});
