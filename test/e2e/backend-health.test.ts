import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { HealthAnswer } from '../../src/control/answers/backends.js';
import { ControlClient } from '../../src/control/control-client.js';
import { echoOrigin } from '../integration/proxy/raw-peers.js';
import { startUpstreams, until } from '../integration/health/pool-fixture.js';
import { sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { parseMetrics } from '../helpers/prometheus-text.js';

const run = promisify(execFile);

async function curl(proxyPort: number, url: string): Promise<string> {
  const { stdout } = await run('curl', ['-s', '--max-time', '20', '-w', ' %{http_code}', '-x', `http://127.0.0.1:${proxyPort}`, url]).catch((e: { stdout: string }) => e);
  return stdout;
}

test('daemon: health API (spec 11.5), backend list and test, health events on the live stream, fail-fast when the pool is down', { timeout: 180_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const [upstream] = await startUpstreams(1);
  let upstreamRunning = true;
  t.after(async () => {
    if (upstreamRunning) await upstream.stop();
  });
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}health_checks:
  defaults: { interval: "300ms", timeout: "1s", healthy_threshold: 2, unhealthy_threshold: 2 }
backends:
  - name: good
    type: http
    proxy: { address: "127.0.0.1:${upstream.http.port}" }
    health_check: { type: tcp, target: "127.0.0.1:${origin.port}" }
  - name: dead
    type: http
    proxy: { address: "127.0.0.1:1" }
    health_check: { type: http, http: { url: "http://127.0.0.1:${origin.port}/health" } }
  - name: pinged
    type: direct
    health_check: { type: ping, target: "127.0.0.1:1" }
rules:
  - name: pool
    match: { domains: ["*"] }
    backends: [{ name: good, weight: 1 }, { name: dead, weight: 1 }]
    load_balancing: { algorithm: round_robin }
`);
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  const status = await box.status();
  const port = status.listeners.find((l) => l.kind === 'http')!.port;
  const client = new ControlClient({ kind: 'socket', path: (status as unknown as { socket: string }).socket }, 'server');
  const health = (name: string): Promise<HealthAnswer> => client.call('backendHealth', { params: { name } });
  const stream: { type: string; backend?: string; healthy?: boolean; reason?: string }[] = [];
  const following = new AbortController();
  const followed = client.follow('events', (event) => stream.push(event as (typeof stream)[number]), following.signal).catch(() => undefined);
  t.after(async () => {
    following.abort();
    await followed;
  });

  await until(async () => (await health('good')).status === 'healthy' && (await health('dead')).consecutive_failures >= 2, 10_000, 'first checks');
  const good = await health('good');
  assert.deepEqual(Object.keys(good), ['name', 'status', 'last_check', 'latency_ms', 'consecutive_failures', 'uptime_percent']);
  assert.equal(good.consecutive_failures, 0);
  assert.equal(good.uptime_percent, 100);
  assert.ok(typeof good.latency_ms === 'number' && good.latency_ms >= 0 && good.latency_ms < 10_000, `latency ${good.latency_ms}`);
  assert.ok(Math.abs(Date.parse(good.last_check!) - Date.now()) < 5000, `last_check ${good.last_check}`);
  const dead = await health('dead');
  assert.equal(dead.status, 'unhealthy');
  assert.equal(dead.uptime_percent, 0, 'it never passed a check');
  assert.equal(dead.latency_ms, null);
  assert.match(dead.reason ?? '', /upstream 127\.0\.0\.1:1: connection refused/);
  await until(async () => (await health('pinged')).status === 'healthy', 10_000, 'ping check');
  assert.equal(typeof (await health('pinged')).latency_ms, 'number');
  await assert.rejects(health('nowhere'), /no backend named "nowhere"/);
  const metrics = parseMetrics((await run('curl', ['-s', '--unix-socket', (status as unknown as { socket: string }).socket, 'http://control/metrics'])).stdout);
  assert.equal(metrics.get('proxy_backend_healthy{backend="good"}'), 1);
  assert.equal(metrics.get('proxy_backend_healthy{backend="dead"}'), 0);
  const latency = metrics.get('proxy_backend_latency_seconds{backend="good"}');
  assert.ok(latency !== undefined && latency >= 0 && latency < 10, `latency gauge ${latency}`);
  assert.ok(!metrics.has('proxy_backend_latency_seconds{backend="dead"}'), 'no latency for a backend that never passed');

  // The pool skips the dead member: every request succeeds through the good one.
  for (let i = 0; i < 6; i++) {
    const answer = await curl(port, `http://127.0.0.1:${origin.port}/r${i}`);
    assert.match(answer, new RegExp(`^\\{"url":"/r${i}".* 200$`));
  }

  const list = await box.cli(['backend', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^NAME\s+TYPE\s+ADDRESS\s+STATUS\s+HEALTH\s+LATENCY\s+UPTIME\s+FAILS\s+CONNECTIONS\s+ERRORS\s+REASON$/m);
  assert.match(list.stdout, /^good\s+http\s+127\.0\.0\.1:\d+\s+available\s+healthy\s+\d+ ms\s+100%\s+0\s/m);
  assert.match(list.stdout, /^dead\s+http\s+127\.0\.0\.1:1\s+available\s+unhealthy\s+-\s+0%\s+\d+\s/m);
  const listed = JSON.parse((await box.cli(['backend', 'list', '--json'])).stdout) as { backends: { name: string; health: { status: string } }[] };
  assert.deepEqual(listed.backends.map((b) => [b.name, b.health.status]), [['good', 'healthy'], ['dead', 'unhealthy'], ['pinged', 'healthy']]);

  const passed = await box.cli(['backend', 'test', '--name', 'good']);
  assert.equal(passed.code, 0, passed.stderr);
  assert.match(passed.stdout, new RegExp(`^backend "good" passed its tcp check of 127\\.0\\.0\\.1:${origin.port} in \\d+ ms$`, 'm'));
  const failed = await box.cli(['backend', 'test', '--name', 'dead']);
  assert.equal(failed.code, 6);
  assert.match(failed.stderr, new RegExp(`backend "dead" failed its http check of http://127\\.0\\.0\\.1:${origin.port}/health \\(\\d+ ms\\): upstream 127\\.0\\.0\\.1:1: connection refused`));
  const pinged = JSON.parse((await box.cli(['backend', 'test', '--name', 'pinged', '--json'])).stdout) as { ok: boolean; type: string; target: string };
  assert.deepEqual([pinged.ok, pinged.type, pinged.target], [true, 'ping', '127.0.0.1']);

  // A reload that leaves the backends alone keeps their health.
  const before = await health('dead');
  const added = await box.cli(['rule', 'add', '--name', 'extra', '--domain', 'example.org', '--backend', 'good', '--position', '0']);
  assert.equal(added.code, 0, added.stderr);
  const after = await health('dead');
  assert.ok(after.consecutive_failures >= before.consecutive_failures, `failures went from ${before.consecutive_failures} to ${after.consecutive_failures}`);
  assert.equal((await health('good')).status, 'healthy');

  // The last good member stops: the stream says so, and requests fail fast with the reason.
  await upstream.stop();
  upstreamRunning = false;
  await until(() => stream.some((e) => e.type === 'backend:health' && e.backend === 'good' && e.healthy === false), 10_000, 'the unhealthy event on the stream');
  const answer = await curl(port, `http://127.0.0.1:${origin.port}/down`);
  assert.match(answer, /^every backend of rule "pool" is unhealthy \(good: .*connection refused.*; dead: .*\)\n 502$/);
});
