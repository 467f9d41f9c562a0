import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../integration/health/pool-fixture.js';
import { makeTlsFiles } from '../helpers/tls-files.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { httpPort, okOrigin, sandbox, type Sandbox } from './cli-harness.js';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request to the management listener with curl, verifying its certificate against the test CA. */
function curl(port: number, ca: string, method: string, path: string, options: { key?: string; headers?: string[]; body?: unknown; from?: string } = {}): Promise<Answer> {
  const args = ['-s', '--max-time', '10', '--cacert', ca, '-X', method, '-w', '\n%{http_code}'];
  if (options.key !== undefined) args.push('-H', `Authorization: Bearer ${options.key}`);
  for (const header of options.headers ?? []) args.push('-H', header);
  if (options.from) args.push('--interface', options.from);
  if (options.body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(options.body));
  args.push(`https://127.0.0.1:${port}${path}`);
  return new Promise((done) => {
    execFile('curl', args, (_error, stdout) => {
      const cut = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, cut);
      // Metrics answer Prometheus text; everything else JSON.
      done({ status: Number(stdout.slice(cut + 1)), body: text.startsWith('{') ? (JSON.parse(text) as Answer['body']) : { text } });
    });
  });
}

async function newKey(box: Sandbox, role: string, ...more: string[]): Promise<{ id: string; secret: string }> {
  const made = await box.cli(['apikey', 'add', '--role', role, ...more, '--json']);
  assert.equal(made.code, 0, made.stderr);
  return JSON.parse(made.stdout) as { id: string; secret: string };
}

test('management listener: TLS, keys with roles, revocation and expiry at once, throttling, Host and Origin checks, the CLI over --remote, an audit trail without secrets', { timeout: 180_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const box = sandbox('');
  t.after(() => box.cleanup());
  const tls = makeTlsFiles(box.dir, ['proxy.test']);
  const config = (bind: string): string =>
    `server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n  bind_address: ${bind}\n  web_ui_port: 0\n  auth:\n    mode: native\n${TRUSTED_LOOPBACK_YAML}management:\n  tls: { cert_file: ${tls.cert}, key_file: ${tls.key} }\n  host_names: [proxy.test]\nbackends:\n  - { name: direct, type: direct }\nrules:\n  - { name: Default, match: { domains: ["*"] }, backend: direct }\n`;
  writeFileSync(box.config, config('127.0.0.1'));
  assert.equal((await box.cli(['start'])).code, 0);
  const status = (await box.status()) as unknown as { management: { host: string; port: number; tls: boolean } };
  assert.deepEqual([status.management.host, status.management.tls], ['127.0.0.1', true]);
  const port = status.management.port;
  const api = (method: string, path: string, options?: Parameters<typeof curl>[4]): Promise<Answer> => curl(port, tls.ca, method, path, options);

  const viewer = await newKey(box, 'viewer');
  const operator = await newKey(box, 'operator');
  const admin = await newKey(box, 'admin');
  const listed = JSON.parse((await box.cli(['apikey', 'list', '--json'])).stdout) as { keys: { id: string; role: string }[] };
  assert.deepEqual(listed.keys.map((k) => [k.id, k.role]), [[viewer.id, 'viewer'], [operator.id, 'operator'], [admin.id, 'admin']]);
  const keyFile = join(box.dir, 'state', 'server', 'api-keys.json');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  for (const key of [viewer, operator, admin]) assert.equal(readFileSync(keyFile, 'utf8').includes(key.secret), false, 'only hashes are stored');

  // Health without a key; everything else needs one.
  assert.equal((await api('GET', '/health/live')).status, 200);
  assert.equal((await api('GET', '/health/ready')).status, 200);
  assert.equal((await api('GET', '/api/status')).status, 401);
  assert.equal((await api('GET', '/api/status', { key: `${viewer.secret}x` })).status, 401);
  assert.equal((await api('GET', `/api/status?api_key=${viewer.secret}`)).status, 400);

  // Each role on a table of routes: allowed (200) or refused (403 naming the role needed).
  const table: [string, string, unknown, 'viewer' | 'operator' | 'admin'][] = [
    ['GET', '/api/status', undefined, 'viewer'],
    ['GET', '/api/backends', undefined, 'viewer'],
    ['GET', '/metrics', undefined, 'viewer'],
    ['POST', '/api/config/reload', undefined, 'operator'],
    ['POST', '/api/debug/enable', undefined, 'operator'],
    ['GET', '/api/users', undefined, 'admin'],
    ['POST', '/api/rules', { name: 'r1', domains: ['r1.test'], backend: 'direct' }, 'admin'],
    ['DELETE', '/api/rules/r1', undefined, 'admin'],
  ];
  const rank = ['viewer', 'operator', 'admin'];
  for (const [method, path, body, needed] of table) {
    for (const [role, key] of [['viewer', viewer], ['operator', operator], ['admin', admin]] as const) {
      const answer = await api(method, path, { key: key.secret, body });
      if (rank.indexOf(role) >= rank.indexOf(needed)) assert.equal(answer.status, 200, `${role} ${method} ${path}: ${JSON.stringify(answer.body)}`);
      else {
        assert.equal(answer.status, 403, `${role} ${method} ${path}`);
        assert.match(answer.body.error!.message, new RegExp(`needs the ${needed} role`));
      }
    }
  }

  // A revoked key and an expired key are refused at once.
  assert.equal((await box.cli(['apikey', 'revoke', operator.id])).code, 0);
  assert.equal((await api('GET', '/api/status', { key: operator.secret })).status, 401);
  const brief = await newKey(box, 'viewer', '--expires', '2s');
  assert.equal((await api('GET', '/api/status', { key: brief.secret })).status, 200);
  await until(async () => (await api('GET', '/api/status', { key: brief.secret })).status === 401, 15_000, 'the key expires');

  // Browser safety: a forged Host (DNS rebinding) and a foreign Origin are refused; a configured name is served.
  assert.equal((await api('GET', '/api/status', { key: admin.secret, headers: ['Host: evil.example'] })).status, 403);
  assert.equal((await api('GET', '/api/status', { key: admin.secret, headers: ['Origin: http://evil.example'] })).status, 403);
  assert.equal((await api('GET', '/api/status', { key: admin.secret, headers: [`Host: proxy.test:${port}`] })).status, 200);
  assert.equal((await api('GET', '/api/status', { key: admin.secret })).body.error, undefined);

  // A wrong key 20 times from one address: refused with 429 before the 20th; another address is still served.
  const tries: number[] = [];
  for (let i = 0; i < 20; i++) tries.push((await api('GET', '/api/status', { key: 'spk_00000000_wrong', from: '127.0.0.2' })).status);
  assert.deepEqual([tries[0], tries.at(-1)], [401, 429]);
  assert.equal((await api('GET', '/api/status', { key: admin.secret, from: '127.0.0.2' })).status, 429);
  assert.equal((await api('GET', '/api/status', { key: admin.secret })).status, 200);

  // The CLI drives the daemon over --remote exactly as over the socket.
  const remote = ['--remote', `https://127.0.0.1:${port}`, '--api-key', admin.secret, '--ca-file', tls.ca];
  const remoteStatus = await box.cli(['status', ...remote, '--json']);
  assert.equal(remoteStatus.code, 0, remoteStatus.stderr);
  assert.equal((JSON.parse(remoteStatus.stdout) as { management: { port: number } }).management.port, port);
  assert.equal((await box.cli(['rule', 'add', '--name', 'viaremote', '--domain', 'remote.test', '--backend', 'direct', ...remote])).code, 0);
  assert.match(readFileSync(box.config, 'utf8'), /viaremote/);
  assert.equal((await box.cli(['config', 'reload', ...remote])).code, 0);
  const unverified = await box.cli(['status', '--remote', `https://127.0.0.1:${port}`, '--api-key', admin.secret]);
  assert.equal(unverified.code, 7, unverified.stderr);
  assert.match(unverified.stderr, /does not verify.*--ca-file/);
  const asViewer = await box.cli(['config', 'reload', '--remote', `https://127.0.0.1:${port}`, '--api-key', viewer.secret, '--ca-file', tls.ca]);
  assert.equal(asViewer.code, 9);
  assert.match(asViewer.stderr, /needs the operator role/);
  const tail = spawn(process.execPath, [join(import.meta.dirname, '../../bin/simple-proxy-server.js'), 'debug', 'tail', ...remote], { env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => tail.kill());
  let tailed = '';
  tail.stdout.setEncoding('utf8').on('data', (chunk: string) => (tailed += chunk));
  tail.stderr.setEncoding('utf8').on('data', (chunk: string) => (tailed += chunk));
  await until(async () => tailed.includes('following live traffic'), 15_000, `debug tail over --remote follows: ${tailed}`);
  const user = await box.cliWithInput(['user', 'add', '--username', 'carol', '--password-stdin', ...remote], 'pw-remote-1\n');
  assert.equal(user.code, 0, user.stderr);
  const proxy = `http://carol:pw-remote-1@127.0.0.1:${httpPort(await box.status())}`;
  await until(async () => {
    await new Promise((done) => execFile('curl', ['-s', '--max-time', '5', '-x', proxy, `http://127.0.0.1:${origin.port}/tailed`], done));
    return tailed.includes('/tailed');
  }, 15_000, 'a request shows in the remote tail');

  // Not on loopback without TLS and a key: refused at reload (and at start).
  writeFileSync(box.config, config('0.0.0.0').replace(/  tls: \{[^}]*\}\n/, ''));
  const reload = await box.cli(['config', 'reload']);
  assert.equal(reload.code, 3, reload.stdout + reload.stderr);
  assert.match(reload.stderr, /refusing to serve the control API on 0\.0\.0\.0.*without TLS/);
  const other = sandbox(config('0.0.0.0').replace(/  tls: \{[^}]*\}\n/, ''));
  t.after(() => other.cleanup());
  const refused = await other.cli(['start']);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /refusing to serve the control API on 0\.0\.0\.0:0: .*without TLS .* and an API key/);

  // The audit trail: one line per change and per refusal, with who, from where, what and the versions; never a secret.
  const auditFile = join(box.dir, 'state', 'server', 'audit.log');
  assert.equal(statSync(auditFile).mode & 0o777, 0o600);
  const text = readFileSync(auditFile, 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const ruleAdd = lines.find((l) => l.action === 'ruleAdd' && l.target === 'viaremote')!;
  assert.equal(ruleAdd.key, admin.id);
  assert.equal(ruleAdd.role, 'admin');
  assert.equal(ruleAdd.remote, '127.0.0.1');
  assert.match(String(ruleAdd.summary), /rules added: viaremote/);
  assert.notEqual(ruleAdd.versionBefore, ruleAdd.versionAfter);
  assert.ok(lines.some((l) => l.action === 'keyAdd' && l.remote === 'local' && typeof l.uid === 'number'), 'changes on the socket are audited with the uid');
  assert.ok(lines.some((l) => (l.result as { status: number }).status === 403 && l.key === viewer.id), 'a refusal beyond the role is audited');
  assert.ok(lines.some((l) => (l.result as { status: number }).status === 401), 'a refusal without a valid key is audited');
  for (const secret of [viewer.secret, operator.secret, admin.secret, brief.secret, 'pw-remote-1']) assert.equal(text.includes(secret), false, 'no secret in the audit log');
  const tailCli = JSON.parse((await box.cli(['audit', 'tail', '-n', '5', '--json'])).stdout) as { entries: unknown[] };
  assert.equal(tailCli.entries.length, 5);

  // Rotation: moved away, SIGUSR1, and the next change lands in a new 0600 file.
  renameSync(auditFile, `${auditFile}.1`);
  process.kill((await box.status()).pid, 'SIGUSR1');
  await until(() => existsSync(auditFile), 10_000, 'the audit log is reopened');
  assert.equal((await box.cli(['debug', 'off'])).code, 0);
  await until(() => readFileSync(auditFile, 'utf8').includes('debugDisable'), 10_000, 'the next change is in the new file');
  assert.equal(statSync(auditFile).mode & 0o777, 0o600);
});
