import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sandbox } from './cli-harness.js';

const CLIENT = `# my client
client:
  http_port: 0
  socks5_port: 0
server:
  address: "127.0.0.1:9"   # nothing listens here
  protocol: http
rules:
  - name: Default direct
    match: { domains: ["*"] }
    action: direct
`;

test('rule add (spec 5.2) goes before the trailing catch-all and says so; an edit that leaves a rule unreachable is refused unless --allow-shadowed, whose warning is shown and in --json', { timeout: 120_000 }, async (t) => {
  const box = sandbox(CLIENT, 'client');
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);

  const added = await box.cli(['rule', 'add', '--name', 'Work', '--domain', '*.company.com', '--action', 'server']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^rule "Work" added at position 0, before the catch-all rule "Default direct" and live \(config version [0-9a-f]{12}\)$/m);
  assert.doesNotMatch(added.stdout, /warning/);
  assert.match((await box.cli(['rule', 'list'])).stdout, /^0\s+Work\s+server\s+\*\.company\.com\n1\s+Default direct\s+direct\s+\*$/m);
  assert.match((await box.cli(['rule', 'test', 'intranet.company.com'])).stdout, /Work/, 'the daemon routes the domain by the new rule');

  const direct = await box.cli(['rule', 'add', '--name', 'Direct', '--domain', '*.local', '--action', 'direct', '--json']);
  assert.equal(direct.code, 0, direct.stderr);
  const outcome = JSON.parse(direct.stdout) as { placement: { position: number; count: number; beforeCatchAll: string }; warnings: string[] };
  assert.deepEqual(outcome.placement, { position: 1, count: 3, beforeCatchAll: 'Default direct' });
  assert.deepEqual(outcome.warnings, []);

  const file = readFileSync(box.config, 'utf8');
  const moved = await box.cli(['rule', 'update', '--name', 'Work', '--position', '2']);
  assert.equal(moved.code, 1, moved.stdout);
  assert.match(moved.stderr, /^Error: refused: rule "Work" can never match: earlier rule "Default direct" already matches every domain it lists; put it before "Default direct" \(position 1\) or pass --allow-shadowed to keep it anyway$/m);
  const last = await box.cli(['rule', 'add', '--name', 'Late', '--domain', 'late.company.com', '--action', 'direct', '--position', '1']);
  assert.equal(last.code, 1);
  assert.match(last.stderr, /rule "Late" can never match: earlier rule "Work"/, 'an earlier wildcard rule shadows it too');
  const reordered = await box.cli(['rule', 'reorder', 'Default direct', 'Work', 'Direct', '--json']);
  assert.equal(reordered.code, 1);
  assert.equal((JSON.parse(reordered.stdout) as { error: { code: string } }).error.code, 'RULE_SHADOWED');
  assert.equal(readFileSync(box.config, 'utf8'), file, 'refused edits leave the file alone');

  const allowed = await box.cli(['rule', 'update', '--name', 'Work', '--position', '2', '--allow-shadowed']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stdout, /^rule "Work" updated, now at position 2 \(last\) \(config version/m);
  assert.match(allowed.stdout, /^warning: rule "Work" can never match: earlier rule "Default direct" already matches every domain it lists$/m);
  const json = await box.cli(['rule', 'remove', '--name', 'Direct', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.ok((JSON.parse(json.stdout) as { warnings: string[] }).warnings.includes('rule "Work" can never match: earlier rule "Default direct" already matches every domain it lists'), json.stdout);
});

test('without a daemon, rule add edits the file with the same placement and refusal', { timeout: 60_000 }, async (t) => {
  const box = sandbox(CLIENT, 'client');
  t.after(() => box.cleanup());
  const added = await box.cli(['rule', 'add', '--name', 'Work', '--domain', '*.company.com', '--action', 'server']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, new RegExp(`^rule "Work" added at position 0, before the catch-all rule "Default direct" to ${box.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(config version`, 'm'));
  const refused = await box.cli(['rule', 'add', '--name', 'Catch', '--domain', '*', '--action', 'server', '--position', '0']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /rule "Work" can never match: earlier rule "Catch"/);
});
