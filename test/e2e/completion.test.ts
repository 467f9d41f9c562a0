import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { sandbox, type Sandbox } from './cli-harness.js';

const BIN = resolve(import.meta.dirname, '../../bin/simple-proxy-server.js');
const HASH = '$2b$04$XgS8u3mIgbl3O8R1kOvd3eRGKDwvk6K8e4y8I2FDx.qGxB0aHqS7W';

/** What bash completes for a command line whose last word is being typed, with the script the bin prints. */
function complete(box: Sandbox, words: string[]): Promise<string[]> {
  const line = [BIN, ...words].map((w) => `'${w}'`).join(' ');
  const script = `source <("${BIN}" completion bash) && COMP_WORDS=(${line}) && COMP_CWORD=${words.length} && _simple_proxy_server && printf '%s\\n' "\${COMPREPLY[@]}"`;
  return new Promise((done, fail) =>
    execFile('bash', ['-c', script], { env: box.env, cwd: box.dir, timeout: 60_000 }, (error, stdout, stderr) => (error ? fail(new Error(stderr || error.message)) : done(stdout.split('\n').filter(Boolean).sort()))),
  );
}

test('bash and zsh complete live backend, rule and user names from the config file, then from the running daemon', { timeout: 120_000 }, async (t) => {
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  auth:
    mode: native
    native:
      users:
        - { username: alice, password_hash: "${HASH}", groups: [work] }
        - { username: bob, password_hash: "${HASH}", groups: [work] }
backends:
  - name: direct
    type: direct
  - name: germany
    type: socks5
    proxy: { address: "127.0.0.1:1" }
rules:
  - name: Anime
    match: { domains: ["*.crunchyroll.com"] }
    backend: germany
  - name: all
    match: { domains: ["*"] }
    backend: direct
`);
  t.after(() => box.cleanup());
  assert.deepEqual(await complete(box, ['st']), ['start', 'status', 'stop']);
  assert.deepEqual(await complete(box, ['rule', 'a']), ['add']);
  assert.deepEqual(await complete(box, ['backend', 'test', '--name', '']), ['direct', 'germany'], 'from the file: no daemon runs');
  assert.deepEqual(await complete(box, ['rule', 'add', '--backend', 'g']), ['germany']);
  assert.deepEqual(await complete(box, ['rule', 'remove', '--name', '']), ['Anime', 'all']);
  assert.deepEqual(await complete(box, ['user', 'passwd', '--username', '']), ['alice', 'bob']);
  assert.deepEqual(await complete(box, ['rule', 'test', '']), ['crunchyroll.com']);
  assert.ok((await complete(box, ['rule', 'add', '--'])).includes('--domain'));

  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const added = await box.cli(['rule', 'add', '--name', 'Work', '--domain', '*.company.com', '--backend', 'germany', '--position', '1']);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(await complete(box, ['rule', 'update', '--name', '']), ['Anime', 'Work', 'all'], 'from the daemon, live');
  assert.deepEqual(await complete(box, ['rule', 'test', '']), ['company.com', 'crunchyroll.com']);

  const zsh = await box.cli(['completion', 'zsh']);
  const bash = await box.cli(['completion', 'bash']);
  assert.equal(zsh.stdout, `autoload -U +X bashcompinit && bashcompinit\n${bash.stdout}`, 'zsh runs the same function through bashcompinit');
});
