import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { parseConfigText } from '../../../src/config/load.js';
import { echoOrigin } from '../proxy/raw-peers.js';
import { ProxyEngine } from '../../../src/proxy/engine.js';
import { get, startUpstreams, until } from './pool-fixture.js';
import { freePort } from '../../helpers/ports.js';
import { TRUSTED_LOOPBACK_YAML } from '../../helpers/trusted-loopback.js';

const INTERVAL_MS = 300;
/** Long enough that, even on a loaded machine, the other checks and a request finish while the stuck one hangs. */
const STUCK_TIMEOUT_MS = 3000;
/** The server section of every engine here: loopback, ports of its own, one process. */
const ONE_ENGINE = `server:\n  http_port: 0\n  socks5_port: 0\n  bind_address: 127.0.0.1\n  workers: 1\n${TRUSTED_LOOPBACK_YAML}`;

test('active checks go through the backend (tcp and http with expected_status), run concurrently, and a hung one neither delays the others nor traffic', { timeout: 60_000 }, async (t) => {
  const origin = await echoOrigin();
  t.after(() => origin.close());
  const [upstream] = await startUpstreams(1);
  t.after(() => upstream.stop());
  // An upstream proxy that accepts and never answers: its checks hang until their timeout.
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket.on('error', () => undefined)));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => {
    held.forEach((s) => s.destroy());
    silent.close();
  });
  const via = (port: number): string => `type: http\n    proxy: { address: "127.0.0.1:${port}" }`;
  const up = upstream.http.port;
  const config = parseConfigText(
    `${ONE_ENGINE}health_checks:
  defaults: { interval: "${INTERVAL_MS}ms", timeout: "1s", healthy_threshold: 2, unhealthy_threshold: 2 }
backends:
  - name: by-tcp
    ${via(up)}
    health_check: { type: tcp, target: "127.0.0.1:${origin.port}" }
  - name: by-http
    ${via(up)}
    health_check: { type: http, http: { url: "http://127.0.0.1:${origin.port}/health-ok" } }
  - name: wrong-status
    ${via(up)}
    health_check: { type: http, http: { url: "http://127.0.0.1:${origin.port}/health-wrong", expected_status: 204 } }
  - name: stuck
    ${via((silent.address() as { port: number }).port)}
    health_check: { type: tcp, target: "127.0.0.1:${origin.port}", timeout: "${STUCK_TIMEOUT_MS}ms" }
rules:
  - name: all
    match: { domains: ["*"] }
    backend: by-tcp
`,
    'front-config.yaml',
    'server',
  );
  const started = Date.now();
  const engine = new ProxyEngine(config);
  const port = (await engine.start()).find((l) => l.kind === 'http')!.port;
  let running = true;
  t.after(() => (running ? engine.stop({ drainMs: 0 }).then(() => undefined) : undefined));

  // While the first check of "stuck" hangs, the other backends are checked at their interval and traffic flows.
  await until(() => engine.health()['by-tcp'].checks >= 3, STUCK_TIMEOUT_MS - 500, 'three checks of by-tcp while stuck hangs');
  assert.equal(engine.health().stuck.status, 'unknown', 'the first check of stuck is still under way');
  const answer = await get(port, `http://127.0.0.1:${origin.port}/traffic`);
  assert.equal(answer.status, 200, answer.error);
  assert.equal(engine.health().stuck.status, 'unknown', 'the request was answered while the check of stuck still hung');

  await until(() => engine.health().stuck.status === 'unhealthy', STUCK_TIMEOUT_MS + 2000, 'stuck marked unhealthy');
  const stuck = engine.health().stuck;
  assert.match(stuck.reason ?? '', new RegExp(`within ${STUCK_TIMEOUT_MS} ms`));
  assert.ok(stuck.lastCheck! - started >= STUCK_TIMEOUT_MS - 100, `failed ${stuck.lastCheck! - started} ms after the start, before its timeout`);

  const health = engine.health();
  assert.deepEqual([health['by-tcp'].status, health['by-http'].status, health['wrong-status'].status], ['healthy', 'healthy', 'unhealthy']);
  assert.match(health['wrong-status'].reason ?? '', /\/health-wrong answered 200, expected 204/);

  // Every check went through the upstream proxy: it saw the tunnels and requests the checks made.
  await engine.stop({ drainMs: 0 });
  running = false;
  const final = engine.health();
  const seen = (match: (r: (typeof upstream.records)[number]) => boolean): number => upstream.records.filter(match).length;
  const tunnels = (): number => seen((r) => r.method === 'CONNECT' && r.port === origin.port);
  const requests = (): number => seen((r) => r.path === '/health-ok' && r.userAgent === 'simple-proxy-health-check');
  // The upstream records a request when it ends, which may be after the check counted it.
  await until(
    () => tunnels() >= final['by-tcp'].checks && requests() >= final['by-http'].checks && seen((r) => r.path === '/health-wrong') >= final['wrong-status'].checks,
    15_000,
    'the upstream records of every check',
  );
  // A check under way when the engine stopped reached the upstream without being counted: at most one more.
  assert.ok(requests() <= final['by-http'].checks + 1, `http checks are requests through the upstream (${requests()} for ${final['by-http'].checks} checks)`);
  // The status values are what the checks did: every one of wrong-status failed.
  assert.equal(final['wrong-status'].consecutiveFailures, final['wrong-status'].checks);
  assert.equal(final['wrong-status'].uptimePercent, 0);
  assert.equal(final['by-http'].uptimePercent, 100);
  assert.equal(final['by-http'].consecutiveFailures, 0);
});

test('recheck runs a check at once: a backend that failed its check is back without waiting out the interval', { timeout: 30_000 }, async (t) => {
  const port = await freePort();
  const config = parseConfigText(
    `${ONE_ENGINE}backends:
  - name: watched
    type: direct
    health_check: { type: tcp, target: "127.0.0.1:${port}", interval: "1h", timeout: "1s", healthy_threshold: 1, unhealthy_threshold: 1 }
rules:
  - name: all
    match: { domains: ["*"] }
    backend: watched
`,
    'front-config.yaml',
    'server',
  );
  const engine = new ProxyEngine(config);
  await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  await until(() => engine.health().watched.status === 'unhealthy', 5000, 'the first check to fail (nothing listens)');
  const target = createServer((socket) => socket.end());
  target.listen(port, '127.0.0.1');
  await once(target, 'listening');
  t.after(() => void target.close());
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(engine.health().watched.status, 'unhealthy', 'without a recheck the next check is an hour away');
  engine.recheck('watched');
  await until(() => engine.health().watched.status === 'healthy', 5000, 'healthy after the recheck');
  assert.equal(engine.health().watched.checks, 2);
});
