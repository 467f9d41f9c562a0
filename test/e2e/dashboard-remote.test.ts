import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTlsFiles } from '../helpers/tls-files.js';
import { httpPort, sandbox, type Sandbox } from './cli-harness.js';
import { checkedDaemonConfig, dashboardCommand, NEEDS_TMUX, startOrigin, Tmux } from './tmux-harness.js';

const run = promisify(execFile);

async function newKey(box: Sandbox, role: string): Promise<string> {
  const made = await box.cli(['apikey', 'add', '--role', role, '--json']);
  assert.equal(made.code, 0, made.stderr);
  return (JSON.parse(made.stdout) as { secret: string }).secret;
}

test('dashboard under tmux over --remote (TLS with a CA file): traffic, backends and status of the remote daemon; r reloads with an operator key and is refused with a viewer key', { skip: NEEDS_TMUX, timeout: 120_000 }, async (t) => {
  const origin = await startOrigin();
  t.after(() => void origin.server.close());
  const box = sandbox('');
  t.after(() => box.cleanup());
  const tls = makeTlsFiles(box.dir);
  // The daemon's socket config plus the management listener on loopback with TLS.
  const config = checkedDaemonConfig(origin.port).replace('  workers: 1\n', `  workers: 1\n  web_ui_port: 0\n`) + `management:\n  tls: { cert_file: ${tls.cert}, key_file: ${tls.key} }\n`;
  writeFileSync(box.config, config);
  assert.equal((await box.cli(['start'])).code, 0);
  const status = (await box.status()) as unknown as { management: { port: number }; config: { version: string }; listeners: { kind: string; port: number }[] };
  const operator = await newKey(box, 'operator');
  const viewer = await newKey(box, 'viewer');
  // No local socket to fall back to: everything the dashboard shows comes over the listener.
  const env = { ...box.env, SIMPLE_PROXY_SOCKET: join(box.dir, 'no-such.sock') };
  const remote = (key: string): string[] => ['--remote', `https://127.0.0.1:${status.management.port}`, '--api-key', key, '--ca-file', tls.ca];
  const proxy = `http://127.0.0.1:${httpPort(status)}`;

  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(`${dashboardCommand(env, { args: remote(operator) })}; echo DASHBOARD-EXITED; sleep 60`, 120, 30);
  const connected = await tmux.waitFor('the remote daemon connected', (s) => s.includes('● connected') && s.includes('Traffic'));
  assert.match(connected, new RegExp(`config ${status.config.version} │ \\d+ open │ http 127\\.0\\.0\\.1:${httpPort(status)}`), "the status line is the remote daemon's");
  for (const path of ['/remote-alpha', '/remote-beta']) await run('curl', ['-s', '-o', '/dev/null', '-x', proxy, `http://127.0.0.1:${origin.port}${path}`]);
  const traffic = await tmux.waitFor('traffic and backends of the remote daemon', (s) => s.includes(`127.0.0.1:${origin.port}/remote-alpha`) && s.includes('/remote-beta') && s.includes('● checked healthy'));
  assert.match(traffic, /Backends 1/);
  await tmux.keys('r');
  await tmux.waitFor('the reload result', (s) => s.includes('config reloaded: version'));
  await tmux.keys('q');
  await tmux.waitFor('the dashboard closed', (s) => s.includes('DASHBOARD-EXITED'));
  tmux.kill();

  // A viewer sees the same daemon; its reload is refused with the role it needs, and the dashboard goes on.
  const viewing = new Tmux(box.dir);
  t.after(() => viewing.kill());
  viewing.start(`${dashboardCommand(env, { args: remote(viewer) })}; echo DASHBOARD-EXITED; sleep 60`, 120, 30);
  await viewing.waitFor('the viewer connected', (s) => s.includes('● connected') && s.includes('● checked healthy'));
  // Captured requests need the operator role: the viewer's list starts empty, and says why.
  await viewing.waitFor('why earlier requests are not listed', (s) => /earlier requests not loaded: .*operator/.test(s));
  await viewing.keys('r');
  await viewing.waitFor('the refusal in the message line', (s) => /needs the operator role/.test(s));
  await run('curl', ['-s', '-o', '/dev/null', '-x', proxy, `http://127.0.0.1:${origin.port}/after-refusal`]);
  const still = await viewing.waitFor('live traffic after the refusal', (s) => s.includes('/after-refusal') && s.includes('● connected'));
  assert.ok(!still.includes('DASHBOARD-EXITED'), 'a refused reload does not end the dashboard');
  await viewing.keys('q');
  await viewing.waitFor('the dashboard closed', (s) => s.includes('DASHBOARD-EXITED'));
});
