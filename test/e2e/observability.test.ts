import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { parseMetrics, exportedNames } from '../helpers/prometheus-text.js';

const run = promisify(execFile);
const SECRET = 'Bearer-SECRET-TOKEN-4f1c';
const API_KEY = 'KEY-9d2e-never-logged';

function config(dir: string, debugExtra = '', output = 'file'): string {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 2
${TRUSTED_LOOPBACK_YAML}metrics:
  enabled: true
  port: 0
debug:
  enabled: true
  log_headers: true
  log_body: true
  max_body_log_size: 16
  output: ${output}
  log_file: ${join(dir, 'traffic.log')}
  history: 5
${debugExtra}`;
}

async function origin(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain', 'set-cookie': 'session=COOKIE-SECRET' });
      res.end(`hello from ${req.url} with a body longer than sixteen bytes`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

const portOf = (status: Record<string, unknown>, kind: string): number => (status.listeners as { kind: string; port: number }[]).find((l) => l.kind === kind)!.port;

async function curl(args: string[]): Promise<{ code: string; body: string }> {
  const { stdout } = await run('curl', ['-s', '--max-time', '10', '-w', '\n%{http_code}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, cut), code: stdout.slice(cut + 1) };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every file under dir, read as text (the daemon log, the debug log, exports). */
function allFilesText(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) text += allFilesText(path);
    else if (statSync(path).isFile()) text += readFileSync(path, 'latin1');
  }
  return text;
}

async function started(t: { after: (fn: () => Promise<void>) => void }, output = 'file'): Promise<{ box: Sandbox; status: Record<string, unknown>; originPort: number }> {
  const { server, port } = await origin();
  t.after(async () => void server.close());
  const box = sandbox('');
  writeFileSync(box.config, config(box.dir, '', output));
  t.after(() => box.cleanup());
  const start = await box.cli(['start']);
  assert.equal(start.code, 0, start.stderr);
  return { box, status: await box.status(), originPort: port };
}

test('metrics, health endpoints and the dashboard: real traffic counted across worker processes', { timeout: 120_000 }, async (t) => {
  const { status, originPort } = await started(t);
  const http = portOf(status, 'http');
  const socks = portOf(status, 'socks5');
  const metrics = status.metrics as { host: string; port: number; endpoint: string };
  assert.equal(metrics.endpoint, '/metrics');
  const base = `http://127.0.0.1:${metrics.port}`;

  for (let i = 0; i < 6; i++) assert.equal((await curl(['-x', `http://127.0.0.1:${http}`, `http://127.0.0.1:${originPort}/get${i}`])).code, '200');
  assert.equal((await curl(['-x', `http://127.0.0.1:${http}`, '-d', 'payload', `http://127.0.0.1:${originPort}/post`])).code, '200');
  assert.equal((await curl(['-x', `http://127.0.0.1:${http}`, '--proxytunnel', `http://127.0.0.1:${originPort}/tunnel`])).code, '200');
  assert.equal((await curl(['--socks5-hostname', `127.0.0.1:${socks}`, `http://127.0.0.1:${originPort}/socks`])).code, '200');
  assert.equal((await curl(['-x', `http://127.0.0.1:${http}`, 'http://127.0.0.1:1/refused'])).code, '502');

  const scrape = await waitFor('all requests in the metrics', async () => {
    const text = (await curl([`${base}/metrics`])).body;
    const m = parseMetrics(text);
    return (m.get('proxy_connections_total{backend="direct",status="success"}') ?? 0) >= 9 && m.has('proxy_connections_errors_total{backend="direct",error="refused"}') ? { text, m } : undefined;
  });
  const { m, text } = scrape;
  assert.equal(m.get('proxy_requests_total{backend="direct",method="GET"}'), 7, 'six GETs and the refused one');
  assert.equal(m.get('proxy_requests_total{backend="direct",method="POST"}'), 1);
  assert.equal(m.get('proxy_requests_total{backend="direct",method="CONNECT"}'), 1);
  assert.equal(m.get('proxy_requests_total{backend="direct",method="SOCKS5"}'), 1);
  assert.equal(m.get('proxy_connections_total{backend="direct",status="success"}'), 9);
  assert.equal(m.get('proxy_connections_total{backend="direct",status="error"}'), 1);
  assert.equal(m.get('proxy_connections_errors_total{backend="direct",error="refused"}'), 1);
  assert.equal(m.get('proxy_request_duration_seconds_count{backend="direct"}'), 10);
  assert.ok((m.get('proxy_request_bytes_total{direction="out"}') ?? 0) > 9 * 50, 'bytes to clients counted');
  assert.ok((m.get('proxy_request_bytes_total{direction="in"}') ?? 0) > 0, 'bytes from clients counted');
  assert.equal(m.get('proxy_connections_active{backend="direct"}'), 0, 'everything finished');
  assert.equal(m.get('proxy_backend_healthy{backend="direct"}'), 1);
  assert.ok((m.get('proxy_uptime_seconds') ?? -1) >= 0);
  assert.equal(m.get('proxy_config_reload_total'), 0);
  assert.ok((m.get('process_cpu_seconds_total') ?? 0) > 0, 'process metrics');
  assert.ok(m.has('nodejs_heap_size_used_bytes'), 'runtime metrics');
  for (const name of m.keys()) assert.doesNotMatch(name, /127\.0\.0\.1|\/get\d/, `no per-host or per-client label: ${name}`);

  const exported = exportedNames(text);
  const dashboard = JSON.parse(readFileSync(new URL('../../assets/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const queried = new Set<string>();
  for (const panel of dashboard.panels) for (const target of panel.targets) for (const name of target.expr.match(/\b(?:proxy|process|nodejs)_[a-z_]+\b/g) ?? []) queried.add(name);
  assert.ok(queried.size >= 10, 'the dashboard queries the proxy metrics');
  for (const name of queried) assert.ok(exported.has(name), `dashboard metric ${name} is exported`);
  for (const required of ['proxy_requests_total', 'proxy_connections_errors_total', 'proxy_backend_healthy', 'proxy_request_duration_seconds_bucket', 'proxy_connections_active', 'proxy_rate_limit_exceeded_total']) {
    assert.ok(queried.has(required), `dashboard shows ${required}`);
  }

  assert.equal((await curl([`${base}/health/live`])).code, '200');
  const ready = await curl([`${base}/health/ready`]);
  assert.equal(ready.code, '200');
  assert.equal(JSON.parse(ready.body).status, 'ok');
  assert.equal((await curl([`${base}/health`])).code, '200');
  assert.equal((await curl([`${base}/nothing`])).code, '404');
  const overSocket = await run('curl', ['-s', '--unix-socket', status.socket as string, 'http://control/metrics']);
  assert.equal(parseMetrics(overSocket.stdout).get('proxy_requests_total{backend="direct",method="POST"}'), 1, 'metrics on the control socket too');
});

/** The start of a config: one engine worker and the metrics listener on a free port. */
const ONE_WORKER_WITH_METRICS = `server:
  http_port: 0
  socks5_port: 0
  workers: 1
metrics:
  enabled: true
  port: 0
`;

test('readiness fails when the catch-all rule has no usable backend', { timeout: 60_000 }, async (t) => {
  const box = sandbox(`${ONE_WORKER_WITH_METRICS}backends:
  - name: vpn
    type: wireguard
    wireguard:
      config_file: /nonexistent/wg0.conf
rules:
  - name: Default
    match:
      domains: ["*"]
    backend: vpn
`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const metrics = (await box.status()).metrics as { port: number };
  const ready = await curl([`http://127.0.0.1:${metrics.port}/health/ready`]);
  assert.equal(ready.code, '503');
  assert.match(JSON.parse(ready.body).reason, /no healthy backend for rule "Default"/);
  assert.equal((await curl([`http://127.0.0.1:${metrics.port}/health/live`])).code, '200');
});

test('readiness follows the health of the catch-all rule\'s backends, not of the others', { timeout: 60_000 }, async (t) => {
  const checked = createServer();
  checked.listen(0, '127.0.0.1');
  await once(checked, 'listening');
  const checkedPort = (checked.address() as { port: number }).port;
  t.after(() => void checked.close());
  const box = sandbox(`${ONE_WORKER_WITH_METRICS}  endpoint: /custom/metrics
backends:
  - name: checked
    type: direct
    health_check: { type: tcp, target: "127.0.0.1:${checkedPort}", interval: 300ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 1 }
  - name: other
    type: direct
rules:
  - name: Other
    match:
      domains: ["other.test"]
    backend: other
  - name: Default
    match:
      domains: ["*"]
    backend: checked
`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const base = `http://127.0.0.1:${((await box.status()).metrics as { port: number }).port}`;
  const state = async (path: string): Promise<string> => {
    const answer = await curl([`${base}${path}`]);
    return `${answer.code} ${JSON.parse(answer.body).reason ?? ''}`.trim();
  };
  await waitFor('ready', async () => ((await state('/health/ready')) === '200' ? true : undefined));
  const scraped = await curl([`${base}/custom/metrics`]);
  assert.equal(scraped.code, '200', 'metrics.endpoint is where the metrics are');
  assert.equal(parseMetrics(scraped.body).get('proxy_backend_healthy{backend="checked"}'), 1);
  assert.equal((await curl([`${base}/metrics`])).code, '404');

  checked.close();
  await once(checked, 'close');
  await waitFor('not ready once the checked backend fails', async () => ((await state('/health/ready')) === '503 no healthy backend for rule "Default"' ? true : undefined));
  assert.equal(await state('/health'), '503 no healthy backend for rule "Default"');
  assert.equal(await state('/health/live'), '200', 'the process is alive all the same');
  assert.equal(parseMetrics((await curl([`${base}/custom/metrics`])).body).get('proxy_backend_healthy{backend="checked"}'), 0);

  checked.listen(checkedPort, '127.0.0.1');
  await once(checked, 'listening');
  await waitFor('ready again', async () => ((await state('/health/ready')) === '200' ? true : undefined));
  assert.equal(await state('/health'), '200');
});

test('traffic debugger: exact debug lines to file and stdout, masking everywhere, bounded history, filters, tail, HAR', { timeout: 120_000 }, async (t) => {
  const { box, status, originPort } = await started(t, 'both');
  const http = portOf(status, 'http');
  const proxy = `http://127.0.0.1:${http}`;
  const events = spawn('curl', ['-s', '-N', '--unix-socket', status.socket as string, 'http://control/api/events'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let eventText = '';
  events.stdout.on('data', (c) => (eventText += c));
  t.after(() => void events.kill());
  const tail = spawn(process.execPath, [join(import.meta.dirname, '../../bin/simple-proxy-server.js'), 'debug', 'tail', '--filter', '/post'], { env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tailText = '';
  let tailNotes = '';
  tail.stdout.on('data', (c) => (tailText += c));
  tail.stderr.on('data', (c) => (tailNotes += c));
  t.after(() => void tail.kill());
  await waitFor('the tail following', () => (tailNotes.includes('following live traffic') ? true : undefined));
  await waitFor('the event stream open', () => (eventText.includes('"type":"hello"') ? true : undefined));

  const post = await curl(['-x', proxy, '-H', `Authorization: Bearer ${SECRET}`, '-H', `X-Api-Key: ${API_KEY}`, '-d', 'form=value&more=0123456789', `http://127.0.0.1:${originPort}/post?q=1`]);
  assert.equal(post.code, '200');
  assert.equal((await curl(['-x', proxy, '--proxytunnel', `http://127.0.0.1:${originPort}/tunnel`])).code, '200');

  const log = await waitFor('the RES line of the CONNECT', () => {
    const file = join(box.dir, 'traffic.log');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return text.split('\n').filter((l) => l.includes('[RES]')).length >= 2 ? text : undefined;
  });
  // Records of different engine workers may interleave: read each record's block by its id.
  const blocks = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of log.trimEnd().split('\n')) {
    const id = /\] \[(?:REQ|RES)\] id=(\w+)/.exec(line)?.[1];
    if (id !== undefined) current = blocks.get(id) ?? (blocks.set(id, []).get(id) as string[]);
    current.push(line);
  }
  const [postBlock, connectBlock] = [...blocks.values()].sort((a, b) => (a[0].includes('method=POST') ? -1 : b[0].includes('method=POST') ? 1 : 0));
  const lines = [...postBlock, ...connectBlock];
  const ts = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]`;
  assert.match(lines[0], new RegExp(String.raw`^${ts} \[REQ\] id=(\w+) method=POST host=127\.0\.0\.1:${originPort} path=/post\?q=1 client=127\.0\.0\.1:\d+ route=direct$`));
  const id = /id=(\w+)/.exec(lines[0])![1];
  assert.match(lines[1], /^ {2}Headers: Host: 127\.0\.0\.1:\d+, User-Agent: curl\/[\d.]+, Accept: \*\/\*, Proxy-Connection: Keep-Alive, Authorization: Bearer \*\*\*, X-Api-Key: \*\*\*, Content-Length: 26, Content-Type: application\/x-www-form-urlencoded$/);
  assert.equal(lines[2], '  Body: form=value&more= … (26 bytes in total)');
  assert.match(lines[3], new RegExp(String.raw`^${ts} \[RES\] id=${id} status=200 size=\d+ duration=\d+ms$`));
  assert.match(lines[4], /^ {2}Headers: content-type: text\/plain, set-cookie: \*\*\*, /);
  assert.equal(lines[5], '  Body: hello from /post … (58 bytes in total)');
  assert.match(lines[6], new RegExp(String.raw`^${ts} \[REQ\] id=\w+ method=CONNECT host=127\.0\.0\.1:${originPort} path=- client=127\.0\.0\.1:\d+ route=direct$`));
  assert.match(lines[7], new RegExp(String.raw`^${ts} \[RES\] id=\w+ status=200 size=\d+ duration=\d+ms$`));

  const one = JSON.parse((await run('curl', ['-s', '--unix-socket', status.socket as string, `http://control/api/debug/traffic/${id}`])).stdout);
  assert.equal(one.method, 'POST');
  assert.equal(one.status, 200);
  assert.deepEqual(one.requestBody, { text: 'form=value&more=', encoding: 'utf8', size: 26, truncated: true });

  await waitFor('the tail line', () => (tailText.includes('[RES]') ? true : undefined));
  assert.match(tailText, /\[REQ\] id=\w+ method=POST/);
  assert.doesNotMatch(tailText, /CONNECT/, 'the tail filter keeps only /post');
  const tailEnd = once(tail, 'exit');
  tail.kill('SIGINT');
  const [tailCode] = await Promise.race([tailEnd, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('debug tail did not stop on Ctrl-C')), 5000))]);
  assert.equal(tailCode, 0, 'Ctrl-C ends the tail cleanly');

  // output: both writes the same lines to the daemon's stdout, which the daemon log holds.
  const daemonLog = await waitFor('the lines on stdout', () => {
    const text = readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8');
    return lines.every((line) => text.includes(line)) ? text : undefined;
  });
  assert.match(daemonLog, /Authorization: Bearer \*\*\*/, 'masked on stdout as in the file');

  const har = join(box.dir, 'traffic.har');
  const exported = await box.cli(['debug', 'export', '--output', har]);
  assert.equal(exported.code, 0, exported.stderr);
  const document = JSON.parse(readFileSync(har, 'utf8'));
  const { default: validator } = await import('har-validator');
  await assert.doesNotReject(validator.har(document), 'valid HAR 1.2');
  const { HTTPSnippet } = (await import('httpsnippet')) as unknown as { HTTPSnippet: new (request: unknown) => { convert(target: string, client?: string): string | string[] } };
  const postEntry = document.log.entries.find((e: { request: { method: string } }) => e.request.method === 'POST');
  const snippet = new HTTPSnippet(postEntry.request).convert('shell', 'curl');
  assert.match(String(snippet), new RegExp(`http://127\\.0\\.0\\.1:${originPort}/post\\?q=1`));
  assert.equal(postEntry.response.status, 200);

  for (let i = 0; i < 8; i++) await curl(['-x', proxy, `http://127.0.0.1:${originPort}/n${i}`]);
  const kept = await waitFor('eight more records', async () => {
    const { stdout } = await run('curl', ['-s', '--unix-socket', status.socket as string, 'http://control/api/debug/traffic?limit=100']);
    const records = JSON.parse(stdout).records as { id: string; path: string }[];
    return records[0]?.path === '/n7' ? records : undefined;
  });
  assert.equal(kept.length, 5, 'history: 5 bounds what is kept');
  const stats = JSON.parse((await box.cli(['debug', 'stats', '--json'])).stdout);
  assert.equal(stats.requests, 9);
  assert.equal(stats.tunnels, 1);
  assert.equal(stats.kept, 5);

  await new Promise((resolve) => setTimeout(resolve, 300));
  const everywhere = allFilesText(box.dir) + eventText + tailText + exported.stdout;
  for (const secret of [SECRET, API_KEY, 'COOKIE-SECRET']) assert.ok(!everywhere.includes(secret), `${secret} never leaves the process unmasked`);
  const streamed = await waitFor('every record on the live stream', () => {
    const ids = new Set<string>();
    for (const line of eventText.split('\n')) {
      const event = line.startsWith('{') && line.endsWith('}') ? (JSON.parse(line) as { type: string; phase?: string; record?: { id: string } }) : null;
      if (event?.type === 'traffic' && event.phase === 'response') ids.add(event.record!.id);
    }
    return ids.size >= 10 ? ids : undefined;
  });
  assert.equal(streamed.size, 10, 'each of the ten requests and tunnels once');
  for (const record of kept) assert.ok(streamed.has(record.id), `record ${record.id} was streamed`);
});

test('debug tail --json: one traffic event a line, filtered, until Ctrl-C', { timeout: 60_000 }, async (t) => {
  const { box, status, originPort } = await started(t);
  const proxy = `http://127.0.0.1:${portOf(status, 'http')}`;
  const tail = spawn(process.execPath, [join(import.meta.dirname, '../../bin/simple-proxy-server.js'), 'debug', 'tail', '--filter', 'wanted', '--json'], { env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let notes = '';
  tail.stdout.on('data', (c) => (text += c));
  tail.stderr.on('data', (c) => (notes += c));
  t.after(() => void tail.kill());
  // JSON mode prints no notes: request until the tail shows one (it is following from then on).
  await waitFor('the tail following', async () => {
    await curl(['-x', proxy, `http://127.0.0.1:${originPort}/wanted-warmup`]);
    return text.includes('"phase":"response"') ? true : undefined;
  });
  await curl(['-x', proxy, `http://127.0.0.1:${originPort}/other`]);
  await curl(['-x', proxy, `http://127.0.0.1:${originPort}/wanted-again`]);
  await waitFor('the second wanted request', () => (/"phase":"response"[^\n]*"path":"\/wanted-again"[^\n]*\n/.test(text) ? true : undefined));
  const events = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; phase: string; record: { path: string; status?: number } });
  assert.ok(events.every((e) => e.type === 'traffic' && e.record.path.startsWith('/wanted-')), 'the filter leaves /other out');
  assert.deepEqual(events.filter((e) => e.record.path === '/wanted-again').map((e) => e.phase), ['request', 'response']);
  assert.equal(events.at(-1)!.record.status, 200);
  assert.equal(notes, '', 'nothing but JSON from --json');

  const ended = once(tail, 'exit');
  tail.kill('SIGINT');
  const [code] = await Promise.race([ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('debug tail --json did not stop on Ctrl-C')), 5000))]);
  assert.equal(code, 0);
});

test('debug on/off/clear and a reloaded filter', { timeout: 120_000 }, async (t) => {
  const { box, status, originPort } = await started(t);
  const proxy = `http://127.0.0.1:${portOf(status, 'http')}`;
  const traffic = async (): Promise<{ method: string; path: string }[]> =>
    JSON.parse((await run('curl', ['-s', '--unix-socket', status.socket as string, 'http://control/api/debug/traffic'])).stdout).records;

  assert.equal((await box.cli(['debug', 'off'])).code, 0);
  await curl(['-x', proxy, `http://127.0.0.1:${originPort}/while-off`]);
  assert.equal((await box.cli(['debug', 'on'])).code, 0);
  await curl(['-x', proxy, `http://127.0.0.1:${originPort}/while-on`]);
  await waitFor('the record', async () => ((await traffic()).length === 1 ? true : undefined));
  assert.deepEqual((await traffic()).map((r) => r.path), ['/while-on']);

  assert.equal((await box.cli(['debug', 'clear'])).code, 0);
  assert.deepEqual(await traffic(), []);

  writeFileSync(box.config, config(box.dir, '  filter:\n    methods: ["POST"]\n    status_codes: [404]\n'));
  assert.equal((await box.cli(['config', 'reload'])).code, 0);
  await curl(['-x', proxy, `http://127.0.0.1:${originPort}/get`]);
  await curl(['-x', proxy, '-d', 'x', `http://127.0.0.1:${originPort}/post-ok`]);
  await curl(['-x', proxy, '-d', 'x', `http://127.0.0.1:${originPort}/missing`]);
  await waitFor('the 404 POST', async () => ((await traffic()).length > 0 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual((await traffic()).map((r) => `${r.method} ${r.path}`), ['POST /missing'], 'only POSTs answered 404 pass the filter');
  const status2 = JSON.parse((await box.cli(['status', '--json'])).stdout);
  assert.equal(status2.debug.enabled, true, '"debug on" holds across a reload that keeps enabled as it was');

  // A domain filter, response lines only, and to stdout only (the daemon log holds the daemon's stdout).
  writeFileSync(box.config, config(box.dir, '  log_requests: false\n  filter:\n    domains: ["localhost"]\n', 'stdout'));
  assert.equal((await box.cli(['config', 'reload'])).code, 0);
  assert.equal((await box.cli(['debug', 'clear'])).code, 0);
  const logFile = join(box.dir, 'traffic.log');
  const daemonLog = join(box.dir, 'state', 'server', 'daemon.log');
  const logBefore = readFileSync(logFile, 'utf8');
  const stdoutBefore = readFileSync(daemonLog, 'utf8').length;
  await curl(['-x', proxy, `http://127.0.0.1:${originPort}/by-address`]);
  await curl(['-x', proxy, `http://localhost:${originPort}/by-name`]);
  await waitFor('the named request', async () => ((await traffic()).length > 0 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual((await traffic()).map((r) => r.path), ['/by-name'], 'only hosts under filter.domains are recorded');
  const newLines = await waitFor('the response line', () => {
    const text = readFileSync(daemonLog, 'utf8').slice(stdoutBefore);
    return text.includes('[RES]') ? text : undefined;
  });
  assert.doesNotMatch(newLines, /\[REQ\]/, 'log_requests: false writes no request lines');
  assert.equal(newLines.match(/\[RES\]/g)?.length, 1, 'one response line, for the filtered-in request');
  assert.equal(readFileSync(logFile, 'utf8'), logBefore, 'output: stdout leaves the log file alone');

  // A rejected reload keeps serving and is counted.
  writeFileSync(box.config, 'server:\n  http_port: "not a port"\n');
  assert.notEqual((await box.cli(['config', 'reload'])).code, 0);
  assert.equal((await curl(['-x', proxy, `http://127.0.0.1:${originPort}/after-bad-reload`])).code, '200');
  const metricsPort = (status.metrics as { port: number }).port;
  const m = parseMetrics((await curl([`http://127.0.0.1:${metricsPort}/metrics`])).body);
  assert.equal(m.get('proxy_config_reload_total'), 2);
  assert.equal(m.get('proxy_config_reload_errors_total'), 1);
});

test('a request with Cookie: s=SECRET leaves no SECRET in any file the daemon wrote, with the default masks and with a custom debug.mask_headers', { timeout: 120_000 }, async (t) => {
  const { server, port: originPort } = await origin();
  t.after(async () => void server.close());
  const cookie = 'COOKIE-REQUEST-SECRET-7d2a';
  for (const extra of ['', '  mask_headers: [x-trace-id]\n']) {
    const box = sandbox('');
    const accessLog = `access_log:\n  enabled: true\n  output: file\n  file: ${join(box.dir, 'access.log')}\n`;
    writeFileSync(box.config, config(box.dir, extra) + accessLog);
    t.after(() => box.cleanup());
    assert.equal((await box.cli(['start'])).code, 0);
    const proxy = `http://127.0.0.1:${portOf(await box.status(), 'http')}`;
    assert.equal((await curl(['-x', proxy, '-H', `Cookie: s=${cookie}`, '-H', 'X-Trace-Id: t1', `http://127.0.0.1:${originPort}/cookie`])).code, '200');
    const har = join(box.dir, 'export.har');
    assert.equal((await box.cli(['debug', 'export', '--output', har])).code, 0);
    // Written once the request is in the traffic log, the access log and the export.
    const written = await waitFor('the request in every file', () => {
      const text = allFilesText(box.dir);
      return (text.match(/\/cookie/g) ?? []).length >= 3 ? text : undefined;
    });
    assert.match(written, /Cookie: \*\*\*|"name":"Cookie","value":"\*\*\*"|cookie: \*\*\*/i, `the cookie is there, masked (${extra.trim() || 'default masks'})`);
    assert.ok(!written.includes(cookie), `no SECRET in any file (${extra.trim() || 'default masks'})`);
    await box.cli(['stop']);
  }
});
