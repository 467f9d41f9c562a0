import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { sandbox } from './cli-harness.js';

const BASE = 'server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n';
const SECTIONS = `rate_limiting:
  enabled: true
  per_ip: { requests_per_second: 50, burst: 10 }
access_control:
  whitelist: ["127.0.0.0/8"]
access_log:
  enabled: true
  output: file
  file: access.log
metrics:
  enabled: true
  port: 0
network:
  timeouts: { connect: 3s }
`;

test('config reload lists every changed section, and asks for a restart only where the running value differs from the file', { timeout: 120_000 }, async (t) => {
  const box = sandbox(BASE);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);

  writeFileSync(box.config, `${BASE.replace('  workers: 1\n', '  workers: 1\n  log_level: debug\n')}${SECTIONS}`);
  const reloaded = await box.cli(['config', 'reload']);
  assert.equal(reloaded.code, 0, reloaded.stderr);
  assert.match(reloaded.stdout, /^ {2}settings changed: server\.log_level, network, rate_limiting, access_control, access_log, metrics$/m);
  assert.doesNotMatch(reloaded.stdout, /restart/);

  writeFileSync(box.config, `${BASE.replace('workers: 1', 'workers: 2')}${SECTIONS}`);
  const workers = await box.cli(['config', 'reload', '--json']);
  assert.equal(workers.code, 0, workers.stderr);
  const answer = JSON.parse(workers.stdout) as { restartRequired: string[]; diff: { settingsChanged: string[] } };
  assert.deepEqual(answer.restartRequired, ['workers']);
  assert.deepEqual(answer.diff.settingsChanged, ['server.log_level', 'server.workers']);

  // Back to what runs: nothing needs a restart any more.
  writeFileSync(box.config, `${BASE}${SECTIONS}`);
  const back = await box.cli(['config', 'reload']);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /^ {2}settings changed: server\.workers$/m);
  assert.doesNotMatch(back.stdout, /needs a restart/);
  const preview = await box.cli(['config', 'reload', '--dry-run']);
  assert.match(preview.stdout, /^ {2}no changes$/m);
  assert.doesNotMatch(preview.stdout, /needs a restart/);
});
