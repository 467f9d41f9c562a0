import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfigText } from '../../../src/config/load.js';
import type { RuleSetStatus } from '../../../src/routing/rule-set-store.js';
import { makeTlsFiles } from '../../helpers/tls-files.js';
import { curl, exchange, socksConnect } from '../policy/policy-fixture.js';
import { snapshot, startEngine, type RunningEngine } from '../proxy/engine-fixture.js';

const MILLION = 1_000_000;

/** Polls until the set's status passes `ready` (bounded), and returns it. */
async function statusWhen(proxy: RunningEngine, name: string, ready: (s: RuleSetStatus) => boolean, timeoutMs = 90_000): Promise<RuleSetStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = proxy.engine.ruleSetStatuses().find((s) => s.name === name)!;
    if (ready(status) || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function config(dir: string, ruleSets: string, rules: string) {
  const parsed = parseConfigText(`rule_sets:\n${ruleSets}\nrules:\n${rules}  - { name: default, match: { domains: ["*"] }, backend: direct }\n`, join(dir, 'server-config.yaml'), 'server');
  return snapshot(parsed.backends, parsed.rules, { ruleSets: parsed.ruleSets, ruleSetCacheDir: join(dir, 'state') });
}

test('a 1M-entry domain set from a file loads off the event loop, rejects what it lists, and a reload keeps the old set until the new one is built', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-rule-sets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = ['# a block list', '*.tracker.test'];
  for (let i = 0; i < MILLION - 1; i++) lines.push(`ad${i}.net${i % 997}.test`);
  const list = join(dir, 'ads.txt');
  writeFileSync(list, lines.join('\n'));
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const proxy = await startEngine(config(dir, '  - { name: ads, path: ads.txt, format: domains }', '  - { name: no-ads, match: { rule_set: ads }, action: reject }\n'));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  // Traffic is served while the set loads; the rule matches nothing until it is in.
  const early = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', via, 'http://ad5.net5.test:9/']);
  assert.notEqual(early.stdout, '403');
  const loaded = await statusWhen(proxy, 'ads', (s) => s.entries !== null || s.error !== null);
  delay.disable();
  assert.equal(loaded.error, null);
  assert.equal(loaded.entries, MILLION);
  assert.ok(delay.max / 1e6 < 1000, `the event loop never stalled for a second while the set loaded (max ${Math.round(delay.max / 1e6)} ms)`);
  const refused = await curl(['-w', '\n%{http_code}', '-x', via, `http://ad123456.net${123456 % 997}.test/`]);
  assert.equal(refused.stdout, 'rejected by rule "no-ads"\n\n403');
  assert.deepEqual(proxy.engine.testRuleSet('ads', 'x.y.tracker.test')?.entry, '*.tracker.test');
  assert.equal(proxy.engine.testRuleSet('ads', 'ad1.net2.test')?.entry, null, 'names are exact unless written as *.suffix');
  const explained = proxy.engine.explainRoute('ad7.net7.test');
  assert.deepEqual([explained.rule?.name, explained.rejected, explained.rule?.keys], ['no-ads', true, [{ key: 'rule_set', entry: 'ads: ad7.net7.test' }]]);

  // An edited list: the old set serves until the new one is built, then the new one alone.
  writeFileSync(list, 'fresh.test\n');
  await proxy.engine.reload(config(dir, '  - { name: ads, path: ads.txt, format: domains }', '  - { name: no-ads, match: { rule_set: ads }, action: reject }\n'));
  assert.equal(proxy.engine.testRuleSet('ads', 'ad7.net7.test')?.entry, 'ad7.net7.test', 'right after the reload the old set still serves');
  const swapped = await statusWhen(proxy, 'ads', (s) => s.entries === 1);
  assert.equal(swapped.entries, 1);
  assert.equal(proxy.engine.testRuleSet('ads', 'ad7.net7.test')?.entry, null);
  assert.equal(proxy.engine.testRuleSet('ads', 'fresh.test')?.entry, 'fresh.test');
  // A broken edit keeps the last good set.
  writeFileSync(list, 'fresh.test\nnot a domain!\n');
  await proxy.engine.reload(config(dir, '  - { name: ads, path: ads.txt, format: domains }', '  - { name: no-ads, match: { rule_set: ads }, action: reject }\n'));
  const broken = await statusWhen(proxy, 'ads', (s) => s.error !== null);
  assert.match(broken.error ?? '', /line 2: "not a domain!" is not a valid domain name/);
  assert.equal(proxy.engine.testRuleSet('ads', 'fresh.test')?.entry, 'fresh.test');
});

test('a 1M-entry CIDR set from a loopback HTTPS server: 304 on refresh, a failed or invalid refresh keeps the last good set, and a restart serves the kept copy', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-rule-sets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = makeTlsFiles(dir);
  const blocks: string[] = ['2001:db8::/32'];
  for (let i = 0; i < MILLION - 1; i++) blocks.push(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  const body = blocks.join('\n');
  let mode: 'ok' | 'fail' | 'html' = 'ok';
  const asked: IncomingHttpHeaders[] = [];
  const server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    asked.push(req.headers);
    if (mode === 'fail') return res.writeHead(503).end('down');
    if (mode === 'html') return res.writeHead(200, { etag: '"v2"' }).end('<html><body>captive portal</body></html>');
    if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
    res.writeHead(200, { etag: '"v1"', 'content-type': 'text/plain' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/nets.txt`;
  const sets = `  - { name: nets, url: "${url}", format: cidr, interval: 1h, ca_file: ${tls.ca} }`;
  const rules = '  - { name: blocked-nets, match: { rule_set: nets }, action: reject }\n';

  const first = await startEngine(config(dir, sets, rules));
  let running: RunningEngine | null = first;
  t.after(() => running?.stop());
  const loaded = await statusWhen(first, 'nets', (s) => s.entries !== null || s.error !== null);
  assert.deepEqual([loaded.entries, loaded.from, loaded.error], [MILLION, 'url', null]);
  const { reply } = await exchange(first.socks.port, '127.0.0.1', socksConnect('10.3.2.1', 80));
  assert.equal(reply[3], 0x02, 'SOCKS5 to an address in the set is refused by the reject rule');
  assert.equal(first.engine.testRuleSet('nets', '2001:db8::5')?.entry, '2001:db8::/32');

  await first.engine.ruleSets.refresh('nets');
  assert.equal(asked.at(-1)?.['if-none-match'], '"v1"', 'the refresh sends the ETag of the copy held');
  const notModified = first.engine.ruleSetStatuses()[0];
  assert.deepEqual([notModified.entries, notModified.from, notModified.error], [MILLION, 'url', null]);

  mode = 'fail';
  await first.engine.ruleSets.refresh('nets');
  const failed = first.engine.ruleSetStatuses()[0];
  assert.match(failed.error ?? '', /answered 503/);
  assert.equal(failed.entries, MILLION, 'a failed refresh keeps the last good set');
  assert.equal(first.engine.testRuleSet('nets', '10.0.0.9')?.entry, '10.0.0.9/32');

  mode = 'html';
  await first.engine.ruleSets.refresh('nets');
  const invalid = first.engine.ruleSetStatuses()[0];
  assert.match(invalid.error ?? '', /did not validate as a "cidr" list: line 1: "<html><body>captive portal<\/body><\/html>" is not an IP address or CIDR block/);
  assert.equal(invalid.entries, MILLION, 'an invalid copy never replaces a good one');
  await first.stop();
  running = null;

  // The next start serves the copy kept on disk although the server is down.
  mode = 'fail';
  const second = await startEngine(config(dir, sets, rules));
  running = second;
  const restarted = await statusWhen(second, 'nets', (s) => s.entries !== null && s.error !== null);
  assert.deepEqual([restarted.entries, restarted.from], [MILLION, 'cache']);
  assert.match(restarted.error ?? '', /answered 503/);
  const blocked = await curl(['-o', '/dev/null', '-w', '%{http_connect}', '-p', '-x', `http://127.0.0.1:${second.http.port}`, 'http://10.1.1.1:443/']);
  assert.equal(blocked.stdout, '403');
});
