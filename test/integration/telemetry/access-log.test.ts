import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessLogSchema } from '../../../src/config/schema.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { AccessLog } from '../../../src/telemetry/access-log.js';
import { debugSpec } from '../../../src/config/normalize.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { curl, exchange, origin, socksConnect } from '../policy/policy-fixture.js';

const hasGoaccess = spawnSync('goaccess', ['--version']).status === 0;

/** Real records: a plain GET, a CONNECT tunnel, a SOCKS5 tunnel and a refused request. */
async function traffic(t: import('node:test').TestContext): Promise<ConnectionRecord[]> {
  const site = await origin(1234);
  t.after(() => site.server.close());
  const proxy = await startEngine(snapshot(undefined, undefined, { raw: { rate_limiting: { enabled: true, per_ip: { requests_per_second: 0.1, burst: 3 } } } }));
  t.after(() => proxy.stop());
  const via = ['-x', `http://127.0.0.1:${proxy.http.port}`, '-A', 'test-agent "quoted"/1.0', '-e', 'http://referrer.example/'];
  await curl(['-o', '/dev/null', ...via, `http://127.0.0.1:${site.port}/page?q=1`]);
  await curl(['-o', '/dev/null', '--proxytunnel', ...via, `http://127.0.0.1:${site.port}/tunnel`]);
  const socks = await exchange(proxy.socks.port, '127.0.0.1', Buffer.concat([socksConnect('127.0.0.1', site.port), Buffer.from('GET / HTTP/1.0\r\n\r\n')]));
  assert.equal(socks.reply[3], 0x00);
  await curl(['-o', '/dev/null', ...via, `http://127.0.0.1:${site.port}/refused`]);
  const deadline = Date.now() + 3000;
  while (proxy.records.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(proxy.records.length, 4);
  return proxy.records;
}

async function writeAll(records: ConnectionRecord[], settings: Record<string, unknown>, path: string): Promise<string[]> {
  const problems: string[] = [];
  const log = await AccessLog.open(accessLogSchema.parse({ enabled: true, output: 'file', file: path, ...settings }), path, (m) => problems.push(m));
  for (const record of records) log.write(record);
  await log.close();
  assert.deepEqual(problems, []);
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

test('access log json: the configured fields, the refusal reason, masked headers', { timeout: 30_000 }, async (t) => {
  const records = await traffic(t);
  const dir = mkdtempSync(join(tmpdir(), 'sp-alog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = await writeAll(records, { format: 'json' }, join(dir, 'access.json'));
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(Object.keys(entries[0]), ['timestamp', 'client_ip', 'username', 'method', 'host', 'path', 'status', 'bytes_sent', 'duration_ms', 'backend', 'user_agent']);
  assert.deepEqual(entries.map((e) => [e.method, e.status]), [['GET', 200], ['CONNECT', 200], ['SOCKS5', 0], ['GET', 429]]);
  assert.equal(entries[0].path, '/page?q=1');
  assert.equal(entries[0].user_agent, 'test-agent "quoted"/1.0');
  assert.equal(entries[3].error, 'rate-limited');

  const picked = await writeAll(
    [{ ...records[0], requestHeaders: ['Authorization', 'Basic c2VjcmV0', 'cookie', 'a=b', 'accept', '*/*', 'Proxy-Authorization', 'Basic cHJveHk='] }],
    { format: 'json', fields: ['client_ip', 'bytes_received', 'referer'], mask_headers: ['authorization', 'Cookie'] },
    join(dir, 'picked.json'),
  );
  const entry = JSON.parse(picked[0]);
  assert.deepEqual(Object.keys(entry), ['client_ip', 'bytes_received', 'referer', 'request_headers']);
  assert.equal(entry.referer, 'http://referrer.example/');
  // The proxy's own credentials are masked even though mask_headers does not list them.
  assert.deepEqual(entry.request_headers, { Authorization: 'Basic ***', cookie: '***', accept: '*/*', 'Proxy-Authorization': 'Basic ***' });
});

test('access log apache_combined and apache_common: goaccess parses every line', { skip: hasGoaccess ? false : 'goaccess is not installed (scripts/setup-system.sh installs it)', timeout: 30_000 }, async (t) => {
  const records = await traffic(t);
  const dir = mkdtempSync(join(tmpdir(), 'sp-alog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [format, goFormat] of [['apache_combined', 'COMBINED'], ['apache_common', 'COMMON']] as const) {
    const path = join(dir, `${format}.log`);
    const lines = await writeAll(records, { format }, path);
    assert.equal(lines.length, 4);
    if (format === 'apache_combined') assert.match(lines[0], /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET http:\/\/127\.0\.0\.1:\d+\/page\?q=1 HTTP\/1\.1" 200 \d+ "http:\/\/referrer\.example\/" "test-agent \\"quoted\\"\/1\.0"$/);
    const report = join(dir, `${format}.json`);
    const run = spawnSync('goaccess', [path, `--log-format=${goFormat}`, '--no-global-config', '-o', report], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as { general: { total_requests: number; valid_requests: number; failed_requests: number; bandwidth: number }; requests: { data: { method: string }[] } };
    assert.equal(parsed.general.failed_requests, 0, `${format}: every line parses`);
    assert.equal(parsed.general.valid_requests, 4);
    assert.equal(parsed.general.bandwidth, records.reduce((n, r) => n + r.bytesOut, 0));
    const methods = new Set(parsed.requests.data.map((d) => d.method));
    assert.ok(methods.has('GET') && methods.has('CONNECT'), [...methods].join(','));
  }
});

test('access log reopen: after the file is moved away, new lines go to a fresh file at the same path', { timeout: 30_000 }, async (t) => {
  const records = await traffic(t);
  const dir = mkdtempSync(join(tmpdir(), 'sp-alog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'access.log');
  const log = await AccessLog.open(accessLogSchema.parse({ enabled: true, output: 'file', file: path, format: 'apache_common' }), path, () => undefined);
  log.write(records[0]);
  await log.reopen();
  renameSync(path, `${path}.1`);
  log.write(records[1]);
  await log.reopen();
  log.write(records[2]);
  await log.close();
  assert.equal(readFileSync(`${path}.1`, 'utf8').trimEnd().split('\n').length, 2, 'the rotated file got what was written before the reopen');
  assert.match(readFileSync(path, 'utf8'), /^127\.0\.0\.1 - - \[[^\]]+\] "CONNECT 127\.0\.0\.1:\d+ SOCKS\/5" 200 /);
});

test('credentials never reach a log unmasked: Proxy-Authorization and Authorization with empty mask_headers (access log and debug log)', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const dir = mkdtempSync(join(tmpdir(), 'sp-alog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const proxy = await startEngine(snapshot());
  let stopped = false;
  t.after(() => (stopped ? undefined : proxy.stop()));
  const debugLog = join(dir, 'traffic.log');
  await proxy.engine.debug({ op: 'set', state: { spec: { ...debugSpec(undefined, dir), enabled: true, logHeaders: true, maskHeaders: [], logFile: debugLog }, on: true } });
  const accessPath = join(dir, 'access.json');
  const log = await AccessLog.open(accessLogSchema.parse({ enabled: true, output: 'file', file: accessPath, format: 'json' }), accessPath, () => undefined);
  proxy.engine.on('connection:end', (record) => log.write(record));

  const got = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxy.http.port}`, '--proxy-user', 'alice:proxy-s3cret', '-H', 'Authorization: Bearer origin-t0ken', `http://127.0.0.1:${site.port}/`]);
  assert.equal(got.stdout, '200');
  const deadline = Date.now() + 3000;
  while (proxy.records.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await log.close();
  await proxy.stop();
  stopped = true;

  const access = readFileSync(accessPath, 'utf8');
  const headers = (JSON.parse(access.trimEnd()) as { request_headers: Record<string, string> }).request_headers;
  assert.equal(headers['Proxy-Authorization'], 'Basic ***');
  assert.equal(headers.Authorization, 'Bearer ***');
  const debug = readFileSync(debugLog, 'utf8');
  assert.match(debug, /Proxy-Authorization: Basic \*\*\*/);
  const encoded = Buffer.from('alice:proxy-s3cret').toString('base64');
  for (const [name, text] of [['access log', access], ['debug log', debug]]) {
    for (const secret of [encoded, 'origin-t0ken']) assert.ok(!text.includes(secret), `${name} holds ${secret}`);
  }
});
