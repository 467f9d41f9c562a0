import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { until } from '../integration/health/pool-fixture.js';
import { connectTunnel } from '../integration/proxy/raw-peers.js';
import { background, curlVia, httpPort, okOrigin, sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { freePort } from '../helpers/ports.js';

function config(drain: string, extra = ''): string {
  return `server:
  http_port: 0
  socks5_port: 0
  bind_address: 127.0.0.1
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct
    type: direct
rules:
  - name: Default
    match:
      domains: ["*"]
    backend: direct
shutdown:
  drain_timeout: "${drain}"
  force_timeout: "10s"
${extra}`;
}

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** An echo server for tunnels. */
async function echoServer(t: { after(fn: () => void): void }): Promise<number> {
  const echo = createServer((s) => s.pipe(s));
  t.after(() => echo.close());
  return listening(echo);
}

/** Opens a CONNECT tunnel through the proxy, flowing. */
async function tunnel(proxyPort: number, port: number): Promise<Socket> {
  const { socket } = await connectTunnel(proxyPort, port);
  return socket.resume();
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether a connection to a loopback port is refused (its listener closed). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });
}

/** Milliseconds from `since` until the socket closes (-1 if it is still open after `timeoutMs`). */
function closedAfter(socket: Socket, since: () => number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - since());
    });
  });
}

async function started(box: Sandbox): Promise<{ pid: number; port: number; socket: string }> {
  const result = await box.cli(['start']);
  assert.equal(result.code, 0, result.stderr);
  const status = await box.status();
  return { pid: status.pid, port: httpPort(status), socket: (status as unknown as { socket: string }).socket };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: listeners close, a download in flight completes, a tunnel still open at shutdown.drain_timeout is force-closed, then the daemon exits`, { timeout: 120_000 }, async (t) => {
    let slowStarted = false;
    const slow = createHttpServer((_req, res) => {
      slowStarted = true;
      res.writeHead(200, { 'content-length': '30' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x'.repeat(10));
        if (++sent === 3) {
          clearInterval(timer);
          res.end();
        }
      }, 200);
    });
    t.after(() => slow.close());
    const slowPort = await listening(slow);
    const echoPort = await echoServer(t);
    const box = sandbox(config('1500ms'));
    t.after(() => box.cleanup());
    const daemon = await started(box);

    const open = await tunnel(daemon.port, echoPort);
    t.after(() => open.destroy());
    const download = background('curl', ['-s', '--max-time', '20', '-x', `http://127.0.0.1:${daemon.port}`, `http://127.0.0.1:${slowPort}/slow`]);
    await until(() => slowStarted, 15_000, 'the download under way');
    let signalledAt = 0;
    const tunnelClosed = closedAfter(open, () => signalledAt, 10_000);
    signalledAt = Date.now();
    process.kill(daemon.pid, signal);

    // New connections are refused at once.
    await until(
      () => refused(daemon.port),
      1000,
      'the listener to close',
    );
    const finished = await download.done;
    assert.equal(finished.stdout, 'x'.repeat(30), 'the download in flight completed during the drain');
    const closedMs = await tunnelClosed;
    // Closed at the 1.5 s drain timeout, not at the 10 s force timeout.
    assert.ok(closedMs >= 1400 && closedMs < 9000, `the idle tunnel was force-closed ${closedMs} ms after ${signal} (drain timeout 1500 ms)`);
    await until(() => !alive(daemon.pid), 5000, 'the daemon to exit');
    assert.ok(!existsSync(daemon.socket), 'control socket removed');
    const log = readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8');
    assert.match(log, /info stopping: draining connections drain_timeout_ms=1500\n/);
    assert.match(log, /info stopped drained=\d+ forced=1\n/);
  });
}

test('SIGTERM with shutdown.accept_grace: /health/ready answers 503 at once, connections are served through the grace, then the listeners close', { timeout: 120_000 }, async (t) => {
  const o = await okOrigin();
  t.after(() => o.server.close());
  const health = await freePort();
  const GRACE_MS = 8000;
  const box = sandbox(config('1s', `metrics:\n  enabled: true\n  port: ${health}\n`).replace('shutdown:\n', `shutdown:\n  accept_grace: "${GRACE_MS}ms"\n`));
  t.after(() => box.cleanup());
  const daemon = await started(box);
  const ready = async (): Promise<number> => (await fetch(`http://127.0.0.1:${health}/health/ready`)).status;
  assert.equal(await ready(), 200);

  const signalledAt = Date.now();
  process.kill(daemon.pid, 'SIGTERM');
  await until(async () => (await ready()) === 503, 4000, 'readiness to answer 503');
  // A balancer that has not yet seen the 503 still sends connections: they are served, not reset.
  assert.equal(await curlVia(daemon.port, `http://127.0.0.1:${o.port}/during`), 'ok /during 200');
  const answeredMs = Date.now() - signalledAt;
  assert.ok(answeredMs < GRACE_MS, `the request was answered ${answeredMs} ms after SIGTERM, past the ${GRACE_MS} ms grace`);

  await until(
    () => refused(daemon.port),
    GRACE_MS + 10_000,
    'the listener to close',
  );
  const closedMs = Date.now() - signalledAt;
  assert.ok(closedMs >= GRACE_MS, `the listener closed ${closedMs} ms after SIGTERM, before the ${GRACE_MS} ms grace ended`);
  await until(() => !alive(daemon.pid), 10_000, 'the daemon to exit');
  const log = readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8');
  assert.match(log, new RegExp(`info stopping: not ready, still accepting accept_grace_ms=${GRACE_MS}\n[^]*info stopping: draining connections drain_timeout_ms=1000\n`));
});

test('stop --force during shutdown.accept_grace ends the grace at once and closes without a drain', { timeout: 120_000 }, async (t) => {
  const health = await freePort();
  const box = sandbox(config('30s', `metrics:\n  enabled: true\n  port: ${health}\n`).replace('shutdown:\n', 'shutdown:\n  accept_grace: "60s"\n').replace('force_timeout: "10s"', 'force_timeout: "90s"'));
  t.after(() => box.cleanup());
  const daemon = await started(box);
  const graceful = box.cli(['stop']);
  await until(async () => (await fetch(`http://127.0.0.1:${health}/health/ready`)).status === 503, 10_000, 'readiness to answer 503');
  const forcedAt = Date.now();
  const forced = await box.cli(['stop', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  await until(() => !alive(daemon.pid), 30_000, 'the daemon to exit');
  const tookMs = Date.now() - forcedAt;
  assert.ok(tookMs < 30_000, `exited ${tookMs} ms after stop --force, within neither the 60 s grace nor the 30 s drain`);
  const first = await graceful;
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /; not ready, still accepting for 60 s; open connections have up to 30 s to finish\n/);
  const log = readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8');
  assert.match(log, /info stopping: not ready, still accepting accept_grace_ms=60000\n[^]*info stopping now \(forced\) drain_timeout_ms=0\n/);
});

test('SIGHUP reloads the edited file; an invalid file is rejected and the old config keeps serving', { timeout: 120_000 }, async (t) => {
  const o = await okOrigin();
  t.after(() => o.server.close());
  const box = sandbox(config('1s'));
  t.after(() => box.cleanup());
  const daemon = await started(box);
  const url = `http://localhost:${o.port}/h`;
  assert.equal(await curlVia(daemon.port, url), 'ok /h 200');

  const original = readFileSync(box.config, 'utf8');
  writeFileSync(box.config, original.replace('rules:\n', 'rules:\n  - name: Blocked\n    match:\n      domains: [localhost]\n    backend: dead\n').replace('backends:\n', 'backends:\n  - name: dead\n    type: http\n    proxy:\n      address: "127.0.0.1:1"\n'));
  process.kill(daemon.pid, 'SIGHUP');
  await until(async () => ((await box.status()).reloads as { total: number }).total === 1, 5000, 'the reload');
  assert.match(await curlVia(daemon.port, url), /connection refused\n 502$/, 'the new rule routes live traffic');

  writeFileSync(box.config, `${readFileSync(box.config, 'utf8')}bogus: true\n`);
  process.kill(daemon.pid, 'SIGHUP');
  await until(async () => ((await box.status()).reloads as { errors: number }).errors === 1, 5000, 'the rejected reload');
  assert.ok(alive(daemon.pid));
  assert.match(await curlVia(daemon.port, url), / 502$/, 'the last good config keeps serving');
});

test('stop --force closes an open tunnel at once, without waiting for the drain timeout', { timeout: 120_000 }, async (t) => {
  const echoPort = await echoServer(t);
  const box = sandbox(config('30s'));
  t.after(() => box.cleanup());
  const daemon = await started(box);
  const open = await tunnel(daemon.port, echoPort);
  t.after(() => open.destroy());
  open.write('still here');
  const [echoed] = (await once(open, 'data')) as [Buffer];
  assert.equal(echoed.toString(), 'still here');

  const stopStarted = Date.now();
  const closed = closedAfter(open, () => stopStarted, 10_000);
  const stopped = await box.cli(['stop', '--force']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /^stopping simple-proxy-server \(pid \d+\) now\nstopped$/m);
  const closedMs = await closed;
  assert.ok(closedMs >= 0 && closedMs < 15_000, `the tunnel closed ${closedMs} ms after stop --force (drain timeout 30 s)`);
  await until(() => !alive(daemon.pid), 5000, 'the daemon to exit');
});

test('start exits non-zero with the reason when a port is taken, and leaves nothing running', { timeout: 120_000 }, async (t) => {
  const blocker = createServer();
  t.after(() => blocker.close());
  const taken = await listening(blocker);
  const box = sandbox(config('1s').replace('http_port: 0', `http_port: ${taken}`));
  t.after(() => box.cleanup());
  for (const args of [['start'], ['start', '--foreground']]) {
    const result = await box.cli(args);
    assert.equal(result.code, 5, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^Error: cannot listen for http on 127\\.0\\.0\\.1:${taken}: address already in use$`, 'm'), args.join(' '));
    const status = await box.cli(['status']);
    assert.equal(status.code, 7, 'no daemon left running');
  }
});

test('start --foreground (systemd, launchd, containers): stays attached, logs where it listens and which config it read, exits 0 on SIGTERM', { timeout: 120_000 }, async (t) => {
  const box = sandbox(config('1s'));
  t.after(() => box.cleanup());
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/simple-proxy-server.js'), 'start', '--foreground'], { env: box.env, cwd: box.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stdout += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  await until(() => stdout.includes(' started '), 20_000, 'the started line');

  const status = await box.status();
  assert.equal(status.pid, child.pid, 'the daemon is the foreground process itself');
  const where = status.listeners.map((l) => `${l.kind} 127.0.0.1:${l.port}`).join(', ');
  assert.ok(stdout.includes(`info simple-proxy-server started pid=${child.pid} listeners="${where}" config=${box.config} `), stdout);
  child.kill('SIGTERM');
  const [code] = await Promise.race([exited, new Promise<[number, null]>((done) => setTimeout(() => done([-1, null]), 10_000).unref())]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /info stopped drained=0 forced=0\n/);
});
