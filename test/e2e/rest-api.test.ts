import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { until } from '../integration/health/pool-fixture.js';
import { curlVia, httpPort, okOrigin, sandbox, type Sandbox } from './cli-harness.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One request over the daemon's control socket with curl (a client that knows nothing of this project). */
function call(socket: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const args = ['-s', '--max-time', '10', '--unix-socket', socket, '-X', method, '-w', '\n%{http_code}', `http://localhost${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(body));
  return new Promise((done) => {
    execFile('curl', args, (_error, stdout) => {
      const cut = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, cut);
      done({ status: Number(stdout.slice(cut + 1)), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
    });
  });
}

async function started(box: Sandbox): Promise<string> {
  const result = await box.cli(['start']);
  assert.equal(result.code, 0, result.stderr);
  return ((await box.status()) as unknown as { socket: string }).socket;
}

const names = (list: unknown): string[] => (list as { name: string }[]).map((item) => item.name);

test('server REST API (spec 5.3): every path answers JSON over the control socket, edits are applied and validated', { timeout: 120_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const box = sandbox('server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\nbackends:\n  - { name: direct, type: direct }\nrules:\n  - { name: Default, match: { domains: ["*"] }, backend: direct }\n');
  t.after(() => box.cleanup());
  const socket = await started(box);
  const api = (method: string, path: string, body?: unknown): Promise<Answer> => call(socket, method, path, body);

  const status = await api('GET', '/api/status');
  assert.deepEqual([status.status, status.body.role], [200, 'server']);
  assert.deepEqual(names((await api('GET', '/api/backends')).body.backends), ['direct']);
  assert.equal((await api('POST', '/api/backends', { name: 'extra', type: 'http', address: '127.0.0.1:3128' })).status, 200);
  assert.deepEqual(names((await api('GET', '/api/backends')).body.backends), ['direct', 'extra']);
  const tested = await api('POST', '/api/backends/direct/test', { target: `127.0.0.1:${origin.port}` });
  assert.deepEqual([tested.status, tested.body.ok], [200, true], JSON.stringify(tested.body));

  assert.equal((await api('POST', '/api/rules', { name: 'a', domains: ['a.test'], backend: 'extra' })).status, 200);
  assert.equal((await api('PUT', '/api/rules/a', { domains: ['b.test'] })).status, 200);
  assert.equal((await api('POST', '/api/rules/reorder', { order: ['Default', 'a'], allow_shadowed: true })).status, 200);
  const rules = (await api('GET', '/api/rules')).body.rules as { name: string; domains: string[] }[];
  assert.deepEqual(rules.map((r) => [r.name, r.domains]), [['Default', ['*']], ['a', ['b.test']]]);
  assert.equal((await api('DELETE', '/api/rules/a')).status, 200);
  assert.equal((await api('DELETE', '/api/backends/extra')).status, 200);
  assert.deepEqual(names((await api('GET', '/api/rules')).body.rules), ['Default']);

  const config = await api('GET', '/api/config');
  assert.deepEqual([config.status, config.body.source], [200, box.config]);
  const reload = await api('POST', '/api/config/reload');
  assert.deepEqual([reload.status, reload.body.ok], [200, true]);
  assert.equal((await api('GET', '/api/stats')).status, 200);
  assert.equal((await api('GET', '/api/clients')).status, 200);

  // Refusals are JSON too, with a stable code.
  const unknown = await api('POST', '/api/rules', { name: 'b', domains: ['c.test'], backend: 'nowhere' });
  assert.equal(unknown.status >= 400 && unknown.status < 500, true, String(unknown.status));
  assert.match(JSON.stringify(unknown.body), /unknown backend \\"nowhere\\"/);
  const missing = await api('DELETE', '/api/rules/nope');
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  assert.equal((await api('GET', '/api/nothing-here')).status, 404);
});

test('client REST API (spec 5.4): status, rules, debug switches, traffic, live stream, stats, config', { timeout: 120_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const box = sandbox('client:\n  http_port: 0\n  socks5_port: 0\nserver:\n  address: "127.0.0.1:9"\n  protocol: http\nrules:\n  - { name: Local, match: { domains: [localhost] }, action: direct }\n', 'client');
  t.after(() => box.cleanup());
  const socket = await started(box);
  const api = (method: string, path: string, body?: unknown): Promise<Answer> => call(socket, method, path, body);

  const status = await api('GET', '/api/status');
  assert.deepEqual([status.status, status.body.role], [200, 'client']);
  assert.equal((await api('POST', '/api/rules', { name: 'Work', domains: ['*.corp.test'], action: 'server' })).status, 200);
  assert.ok(names((await api('GET', '/api/rules')).body.rules).includes('Work'));
  assert.equal((await api('DELETE', '/api/rules/Work')).status, 200);

  assert.equal((await api('POST', '/api/debug/enable')).status, 200);
  assert.equal((await api('GET', '/api/debug/status')).body.enabled, true);
  // The live traffic stream (NDJSON): a request made while it is open shows up in it.
  const stream = spawn('curl', ['-sN', '--max-time', '20', '--unix-socket', socket, 'http://localhost/api/debug/traffic/stream']);
  t.after(() => stream.kill());
  let streamed = '';
  stream.stdout.on('data', (chunk) => (streamed += chunk));
  const events = (): { type: string; record?: { path?: string } }[] => streamed.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  await until(() => streamed.includes('\n'), 5000, 'the stream to say hello');
  assert.equal(events()[0].type, 'hello');
  assert.equal(await curlVia(httpPort(await box.status()), `http://localhost:${origin.port}/watched`), 'ok /watched 200');
  await until(() => events().some((e) => e.type === 'traffic' && e.record?.path === '/watched'), 5000, 'the request on the stream');
  stream.kill();
  const traffic = await api('GET', '/api/debug/traffic');
  assert.equal(traffic.status, 200);
  assert.match(JSON.stringify(traffic.body), /\/watched/);
  assert.equal((await api('GET', '/api/debug/stats')).status, 200);
  assert.equal((await api('POST', '/api/debug/clear')).status, 200);
  assert.equal((await api('POST', '/api/debug/disable')).status, 200);
  assert.equal((await api('GET', '/api/debug/status')).body.enabled, false);
  assert.equal((await api('GET', '/api/config')).status, 200);
  assert.equal((await api('POST', '/api/config/reload')).body.ok, true);
});
