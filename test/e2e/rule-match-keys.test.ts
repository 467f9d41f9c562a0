import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../src/control/control-client.js';
import type { RouteExplanation } from '../../src/routing/route-explanation.js';
import { curlVia, httpPort, okOrigin, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const CONFIG = `server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - { name: direct, type: direct }
  - { name: other, type: direct }
rules:
  - name: default
    match: { domains: ["*"] }
    backend: direct
`;

test('rule add takes the new match keys and action reject (CLI and REST API), rule test --ip --port --protocol --client explains the key and entry, and traffic follows', { timeout: 120_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const box = sandbox(CONFIG);
  t.after(() => box.cleanup());

  // Without a daemon: edits go to the file, answers come from it.
  const added = await box.cli(['rule', 'add', '--name', 'block-loopback-port', '--ip-cidr', '127.0.0.0/8', '--port', String(origin.port), '--protocol', 'http', '--protocol', 'connect', '--action', 'reject']);
  assert.equal(added.code, 0, added.stderr);
  const offline = await box.cli(['rule', 'test', '--ip', '127.0.0.1', '--port', String(origin.port), '--protocol', 'connect']);
  assert.deepEqual(offline.stdout.trimEnd().split('\n').slice(1), [
    `127.0.0.1 (port ${origin.port}, connect) -> rule #0 "block-loopback-port" (protocols connect, ports ${origin.port}, ip_cidr 127.0.0.0/8) -> rejected (403 / SOCKS5 0x02)`,
    '  also matches rule #1 "default" (pattern *), but the earlier rule wins',
  ]);
  const badCidr = await box.cli(['rule', 'add', '--name', 'bad', '--ip-cidr', '10.0.0.0/40', '--backend', 'other']);
  assert.equal(badCidr.code, 2, badCidr.stderr);
  assert.match(badCidr.stderr, /ip_cidr\.0: "10\.0\.0\.0\/40" is not an IP address or CIDR block/);

  assert.equal((await box.cli(['start'])).code, 0);
  const status = await box.status();
  const control = new ControlClient({ kind: 'socket', path: (status as unknown as { socket: string }).socket }, 'server');
  // The REST API takes the same keys as the file: here a rule for the client's own address block.
  await control.call('ruleAdd', { body: { name: 'from-loopback', match: { source_cidr: ['127.0.0.0/8'], not: { ports: [origin.port] } }, backend: 'other', position: 1 } });

  const refused = await curlVia(httpPort(status), `http://127.0.0.1:${origin.port}/`);
  assert.match(refused, /rejected by rule "block-loopback-port"/);
  const json = JSON.parse((await box.cli(['rule', 'test', '--ip', '127.0.0.1', '--port', '9', '--client', '127.0.0.1', '--json'])).stdout) as RouteExplanation;
  assert.deepEqual([json.rule?.name, json.rule?.keys, json.backend], ['from-loopback', [{ key: 'source_cidr', entry: '127.0.0.0/8' }, { key: 'not', entry: 'the nested match does not hold' }], 'other']);
  const socks = await box.cli(['rule', 'test', '--ip', '127.0.0.1', '--port', String(origin.port), '--protocol', 'socks5']);
  assert.equal(socks.stdout.split('\n')[0], `127.0.0.1 (port ${origin.port}, socks5) -> rule #2 "default" (pattern *) -> backend direct`, 'protocols: http, connect does not take SOCKS5');
  const bad = await box.cli(['rule', 'test', '--ip', 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--ip: expected an IPv4 or IPv6 address/);
});

test('rule-set test NAME HOST and rule test explain a match through a set, with and without the daemon; rule-set list shows what is loaded', { timeout: 120_000 }, async (t) => {
  const box = sandbox(CONFIG.replace('rules:\n', 'rule_sets:\n  - { name: ads, path: ads.txt, format: hosts }\nrules:\n  - { name: no-ads, match: { rule_set: ads }, action: reject }\n'));
  t.after(() => box.cleanup());
  writeFileSync(join(box.dir, 'ads.txt'), '# hosts\n0.0.0.0 ads.example tracker.example\n');
  const offline = await box.cli(['rule-set', 'test', 'ads', 'tracker.example']);
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(offline.stdout.trimEnd().split('\n'), [`(no daemon: loaded from ${join(box.dir, 'ads.txt')})`, `tracker.example: in rule set "ads" by entry tracker.example (2 entries from ${join(box.dir, 'ads.txt')})`]);
  const unknown = await box.cli(['rule-set', 'test', 'adz', 'x.example']);
  assert.match(unknown.stderr, /no rule set named "adz" \(rule sets: ads\)/);

  assert.equal((await box.cli(['start'])).code, 0);
  const deadline = Date.now() + 30_000;
  let live = await box.cli(['rule-set', 'test', 'ads', 'www.ads.example']);
  while (live.code !== 0 && Date.now() < deadline) live = await box.cli(['rule-set', 'test', 'ads', 'www.ads.example']);
  assert.equal(live.stdout.trim(), `www.ads.example: not in rule set "ads" (2 entries from ${join(box.dir, 'ads.txt')})`, 'hosts-file names are exact');
  const list = JSON.parse((await box.cli(['rule-set', 'list', '--json'])).stdout) as { ruleSets: { name: string; entries: number; from: string }[] };
  assert.deepEqual(list.ruleSets.map((r) => [r.name, r.entries, r.from]), [['ads', 2, 'file']]);
  const explained = await box.cli(['rule', 'test', 'ads.example']);
  assert.equal(explained.stdout.split('\n')[0], 'ads.example -> rule #0 "no-ads" (rule_set ads: ads.example) -> rejected (403 / SOCKS5 0x02)');
});
