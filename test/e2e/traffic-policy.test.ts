import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { sandbox } from './cli-harness.js';

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function curl(proxyPort: number, url: string): Promise<string> {
  return new Promise((resolve) => execFile('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxyPort}`, url], { timeout: 10_000 }, (_e, stdout) => resolve(stdout)));
}

test('start refuses an open proxy and names the key that allows it', { timeout: 60_000 }, async (t) => {
  const box = sandbox('server:\n  bind_address: "0.0.0.0"\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n');
  t.after(() => box.cleanup());
  const result = await box.cli(['start']);
  assert.notEqual(result.code, 0);
  assert.match(result.stdout + result.stderr, /refusing to start an open proxy: server\.bind_address 0\.0\.0\.0 .*access_control\.allow_open_relay: true/);
});

test('the daemon writes the access log and reopens it on SIGUSR1 (logrotate)', { timeout: 90_000 }, async (t) => {
  const site = createServer((_req, res) => res.end('ok'));
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  t.after(() => site.close());
  const sitePort = (site.address() as { port: number }).port;
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 2
access_log:
  enabled: true
  format: apache_combined
  output: file
  file: access.log
`);
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const status = await box.status();
  const port = status.listeners.find((l) => l.kind === 'http')!.port;
  const log = join(box.dir, 'access.log');

  assert.equal(await curl(port, `http://127.0.0.1:${sitePort}/before`), '200');
  await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('/before'), 'the first line');
  renameSync(log, `${log}.1`);
  process.kill(status.pid, 'SIGUSR1');
  await waitFor(() => existsSync(log), 'the reopened file');
  assert.equal(await curl(port, `http://127.0.0.1:${sitePort}/after`), '200');
  await waitFor(() => readFileSync(log, 'utf8').includes('/after'), 'the line after the reopen');
  assert.ok(!readFileSync(`${log}.1`, 'utf8').includes('/after'));
  assert.match(readFileSync(log, 'utf8'), /^127\.0\.0\.1 - - \[[^\]]+\] "GET http:\/\/127\.0\.0\.1:\d+\/after HTTP\/1\.1" 200 \d+ "-" "curl\/[^"]+"\n$/);
});
