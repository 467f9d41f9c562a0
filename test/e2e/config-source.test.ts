import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox } from './cli-harness.js';

const CONFIG = 'server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n';

test('config validate without --config checks the running daemon\'s file, not the one it would find otherwise', { timeout: 120_000 }, async (t) => {
  const box = sandbox(CONFIG);
  t.after(() => box.cleanup());
  const running = join(box.dir, 'running.yaml');
  writeFileSync(running, CONFIG);
  assert.equal((await box.cli(['start', '--config', running])).code, 0);
  // The daemon's file is broken after it started; $SIMPLE_PROXY_CONFIG names a good one.
  writeFileSync(running, `${CONFIG}rules:\n  - name: Default\n    match: { domains: ["*"] }\n    backend: nowhere\n`);
  const checked = await box.cli(['config', 'validate']);
  assert.equal(checked.code, 3, checked.stdout);
  assert.match(checked.stdout, new RegExp(`^\\(checking the running daemon's config: ${running.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'));
  assert.match(checked.stderr, /running\.yaml:\d+:\d+: rules\[0\]\.backend: unknown backend "nowhere"/);
  assert.equal((await box.cli(['config', 'validate', '--config', box.config])).code, 0, '--config still picks the file');
});

test('with no daemon and no config file, rule list, backend list, config show and user list say they show the embedded default', { timeout: 60_000 }, async () => {
  const box = sandbox(CONFIG);
  unlinkSync(box.config);
  delete box.env.SIMPLE_PROXY_CONFIG;
  box.env.XDG_CONFIG_HOME = join(box.dir, 'empty-config-home');
  mkdirSync(box.env.XDG_CONFIG_HOME);
  const note = '(no daemon is running and no config file was found: this is the embedded default config; create a file with "simple-proxy-server config init" or pass --config FILE)';
  for (const args of [['rule', 'list'], ['backend', 'list'], ['config', 'show'], ['user', 'list']]) {
    const human = await box.cli(args);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout.split('\n')[0], note, args.join(' '));
    const json = await box.cli([...args, '--json']);
    assert.equal((JSON.parse(json.stdout) as { from: string }).from, 'embedded default', args.join(' '));
  }
  const client = await box.cli(['rule', 'list'], 'client');
  assert.match(client.stdout, /^\(no daemon is running and no config file was found: this is the embedded default config; create a file with "simple-proxy-client config init"/);
  await box.cleanup();
});
