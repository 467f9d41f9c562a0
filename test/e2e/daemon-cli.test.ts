import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { background, parallel, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { waitFor } from '../helpers/run.js';

const run = promisify(execFile);

function config(extra = '', workers = 1): string {
  return `# e2e config: keep this comment
server:
  http_port: 0      # any free port
  socks5_port: 0
  workers: ${workers}
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct
    type: direct
  - name: dead
    type: http
    proxy:
      address: "127.0.0.1:1"
rules:
  - name: Default
    match:
      domains: ["*"]
    backend: direct
shutdown:
  drain_timeout: "10s"
  force_timeout: "20s"
${extra}`;
}

async function origin(): Promise<{ server: Server; port: number; slowStarted: () => boolean }> {
  let slowStarted = false;
  const server = createServer((req, res) => {
    if (req.url === '/slow') {
      slowStarted = true;
      res.writeHead(200, { 'content-length': '30' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('xxxxxxxxxx');
        if (++sent === 3) {
          clearInterval(timer);
          res.end();
        }
      }, 700);
      return;
    }
    res.end(`ok ${req.url}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, slowStarted: () => slowStarted };
}

/** Whether a process is gone (or a zombie that only waits to be reaped). */
const gone = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
};

const httpPort = (s: { listeners: { kind: string; port: number }[] }): number => s.listeners.find((l) => l.kind === 'http')!.port;

async function curl(proxyPort: number, url: string): Promise<string> {
  const { stdout } = await run('curl', ['-s', '--max-time', '20', '-w', ' %{http_code}', '-x', `http://127.0.0.1:${proxyPort}`, url]).catch((e: { stdout: string }) => e);
  return stdout;
}

test('lifecycle: background start, status, live rule edits, second start refused, owner-only socket, stop', { timeout: 180_000 }, async (t) => {
  const box = sandbox(config('', 2));
  t.after(() => box.cleanup());
  const o = await origin();
  t.after(() => o.server.close());

  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /simple-proxy-server started \(pid \d+\)/);
  assert.match(started.stdout, new RegExp(`config   ${box.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const status = await box.status();
  const port = httpPort(status);
  // Where it listens, in the start output: the ports status reports (the file asks for any free port).
  for (const l of status.listeners) assert.match(started.stdout, new RegExp(`^  ${l.kind} +${l.kind}://127\\.0\\.0\\.1:${l.port}$`, 'm'));
  assert.equal(status.role, 'server');
  assert.equal(status.workers, 2);

  const socket = (status as unknown as { socket: string }).socket;
  const pidFile = `${box.dir}/state/server/daemon.pid`;
  assert.equal(readFileSync(pidFile, 'utf8'), `${status.pid}\n`, 'pidfile in the state directory');
  assert.match(readFileSync(`${box.dir}/state/server/daemon.log`, 'utf8'), new RegExp(`info simple-proxy-server started pid=${status.pid} `), 'log file in the state directory');
  const human = (await box.cli(['status'])).stdout;
  const socksPort = status.listeners.find((l) => l.kind === 'socks5')!.port;
  assert.match(human, new RegExp(`^simple-proxy-server running \\(pid ${status.pid}, up \\d+h\\d\\dm\\d\\ds, role server\\)$`, 'm'));
  assert.ok(human.includes(`\nconfig       ${box.config}  [version ${(status.config as { version: string }).version}]\n`), human);
  assert.ok(human.includes(`\nlisteners    http 127.0.0.1:${port}, socks5 127.0.0.1:${socksPort}\n`), human);
  assert.match(human, /^connections {2}\d+ open, \d+ since start$/m);
  assert.match(human, /^BACKEND +TYPE +ADDRESS +STATUS +HEALTH +CONNECTIONS +ERRORS +REASON\ndirect +direct +- +available +unknown +\d+ +\d+\ndead +http +127\.0\.0\.1:1 +/m);
  assert.equal(statSync(socket).mode & 0o777, 0o600, 'socket is owner-only');
  assert.equal(statSync(`${box.dir}/run`).mode & 0o777, 0o700, 'socket dir is owner-only');

  const again = await box.cli(['start']);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /^Error: simple-proxy-server is already running \(pid \d+, socket .*server\.sock\)$/m);

  const url = `http://localhost:${o.port}/x`;
  assert.equal(await curl(port, url), 'ok /x 200');
  const added = await box.cli(['rule', 'add', '--name', 'Blocked', '--domain', 'localhost', '--backend', 'dead', '--position', '0']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(await curl(port, url), /upstream 127\.0\.0\.1:1: connection refused\n 502$/);
  assert.equal(await curl(port, `http://127.0.0.1:${o.port}/y`), 'ok /y 200', 'other hosts still go direct');

  const reordered = await box.cli(['rule', 'reorder', 'Default', 'Blocked', '--allow-shadowed']);
  assert.equal(reordered.code, 0, reordered.stderr);
  assert.match(reordered.stdout, /^warning: rule "Blocked" can never match: earlier rule "Default"/m);
  assert.equal(await curl(port, url), 'ok /x 200', 'the catch-all now wins');
  const list = await box.cli(['rule', 'list']);
  assert.match(list.stdout, /^#\s+NAME\s+BACKEND\s+DOMAINS\n0\s+Default\s+direct\s+\*\n1\s+Blocked\s+dead\s+localhost$/m);
  const removed = await box.cli(['rule', 'remove', '--name', 'Blocked']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(readFileSync(box.config, 'utf8').startsWith('# e2e config: keep this comment\n'));
  assert.match(readFileSync(box.config, 'utf8'), /http_port: 0      # any free port/);

  const beforeBad = readFileSync(box.config, 'utf8');
  const versionBeforeBad = ((await box.status()).config as { version: string }).version;
  const bad = await box.cli(['rule', 'add', '--name', 'X', '--domain', 'x.com', '--backend', 'nowhere']);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /rules\[0\]\.backend: unknown backend "nowhere"/, 'placed before the trailing catch-all');
  assert.equal(readFileSync(box.config, 'utf8'), beforeBad, 'the refused edit left the file alone');
  assert.equal(((await box.status()).config as { version: string }).version, versionBeforeBad, 'and the daemon kept its config');

  const test_ = await box.cli(['rule', 'test', '--domain', 'localhost']);
  assert.equal(test_.stdout.trim(), 'localhost -> rule #0 "Default" (pattern *) -> backend direct');

  const stopped = await box.cli(['stop']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(!existsSync(socket), 'socket removed');
  assert.ok(!existsSync(pidFile), 'pidfile removed');
  const none = await box.cli(['status']);
  assert.equal(none.code, 7);
  assert.match(none.stderr, /^Error: no simple-proxy-server daemon is running \(no answer on .*server\.sock\)$/m);
});

test('20 concurrent rule add processes: all applied, file valid, comments kept', { timeout: 180_000 }, async (t) => {
  const box = sandbox(config());
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const results = await parallel(
    box,
    Array.from({ length: 20 }, (_, i) => ['rule', 'add', '--name', `r${i}`, '--domain', `r${i}.example.com`, '--backend', 'direct', '--position', '0']),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const listed = JSON.parse((await box.cli(['rule', 'list', '--json'])).stdout) as { rules: { name: string }[] };
  assert.equal(listed.rules.length, 21);
  assert.deepEqual(new Set(listed.rules.map((r) => r.name)), new Set(['Default', ...Array.from({ length: 20 }, (_, i) => `r${i}`)]));
  const validated = await box.cli(['config', 'validate']);
  assert.equal(validated.code, 0, validated.stderr);
  assert.ok(readFileSync(box.config, 'utf8').includes('# e2e config: keep this comment'));
});

test('stop drains: a slow download in flight completes; a CONNECT tunnel survives three reloads', { timeout: 180_000 }, async (t) => {
  const box = sandbox(config());
  t.after(() => box.cleanup());
  const o = await origin();
  t.after(() => o.server.close());
  const echo = createNetServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const echoPort = (echo.address() as { port: number }).port;
  assert.equal((await box.cli(['start'])).code, 0);
  const port = httpPort(await box.status());

  const tunnel = connect(port, '127.0.0.1');
  await once(tunnel, 'connect');
  tunnel.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
  const [answer] = (await once(tunnel, 'data')) as [Buffer];
  assert.match(answer.toString(), /^HTTP\/1\.1 200 /);
  for (let i = 0; i < 3; i++) {
    const edit = await box.cli(['rule', 'add', '--name', `reload${i}`, '--domain', `n${i}.example`, '--backend', 'direct']);
    assert.equal(edit.code, 0, edit.stderr);
    const reload = await box.cli(['config', 'reload']);
    assert.equal(reload.code, 0, reload.stderr);
    tunnel.write(`ping ${i}`);
    const [echoed] = (await once(tunnel, 'data')) as [Buffer];
    assert.equal(echoed.toString(), `ping ${i}`, `tunnel alive after reload ${i + 1}`);
  }
  tunnel.destroy();

  const download = background('curl', ['-s', '--max-time', '30', '-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${o.port}/slow`]);
  await waitFor('the download under way', () => (o.slowStarted() ? true : undefined));
  const started = Date.now();
  const stopped = await box.cli(['stop']);
  assert.equal(stopped.code, 0, stopped.stderr);
  const finished = await download.done;
  assert.equal(finished.code, 0, finished.stderr);
  assert.equal(finished.stdout, 'x'.repeat(30), 'the download completed during the drain');
  assert.ok(Date.now() - started < 10_000, 'within the drain timeout');
});

test('config validate prints every problem with file, line and column; a broken reload keeps the old config', { timeout: 120_000 }, async (t) => {
  const box = sandbox('server:\n  http_prot: 8080\n  log_level: loud\nrules:\n  - name: a\n    match: { domains: ["*"] }\n    backend: germny\n');
  t.after(() => box.cleanup());
  const result = await box.cli(['config', 'validate']);
  assert.equal(result.code, 3);
  assert.equal(
    result.stderr.trim(),
    [
      'Error: config is invalid (2 problems):',
      '  server-config.yaml:2:3: server.http_prot: unknown key (did you mean "http_port"?) (expected one of: http_port, socks5_port, bind_address, sniff, web_ui_port, log_level, workers, tls, proxy_protocol, auth)',
      '  server-config.yaml:3:14: server.log_level: "loud" is not allowed (expected one of: "debug", "info", "warn", "error")',
    ].join('\n'),
  );
  const json = await box.cli(['config', 'validate', '--json']);
  assert.equal(JSON.parse(json.stdout).error.code, 'CONFIG_INVALID');

  const good = sandbox(config());
  t.after(() => good.cleanup());
  assert.equal((await good.cli(['start'])).code, 0);
  const before = (await good.status()).config as { version: string };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(good.config, `${readFileSync(good.config, 'utf8')}\nbogus: true\n`);
  const reload = await good.cli(['config', 'reload']);
  assert.equal(reload.code, 3);
  assert.match(reload.stderr, /bogus: unknown key/);
  const after = await good.status();
  assert.equal((after.config as { version: string }).version, before.version, 'old config keeps serving');
  assert.deepEqual(after.reloads, { total: 0, errors: 1 });
});

test('a stale socket from a killed daemon is replaced at the next start', { timeout: 120_000 }, async (t) => {
  const box = sandbox(config());
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const { pid, socket } = (await box.status()) as unknown as { pid: number; socket: string };
  process.kill(pid, 'SIGKILL');
  await waitFor('the killed daemon gone', () => (gone(pid) ? true : undefined));
  assert.ok(existsSync(socket), 'the killed daemon left its socket behind');
  const restarted = await box.cli(['start']);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.notEqual((await box.status()).pid, pid);
});

test('the control socket path is chosen by --socket or $SIMPLE_PROXY_SOCKET; a command looking elsewhere names the socket it tried', { timeout: 120_000 }, async (t) => {
  const box = sandbox(config());
  const custom = `${box.dir}/custom.sock`;
  t.after(() => box.cli(['stop', '--force', '--socket', custom]).then(() => box.cleanup()));
  const started = await box.cli(['start', '--socket', custom]);
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, new RegExp(`^  socket   ${custom}$`, 'm'));
  assert.equal(statSync(custom).mode & 0o777, 0o600);

  const elsewhere = await box.cli(['status']);
  assert.equal(elsewhere.code, 7);
  assert.ok(elsewhere.stderr.includes(`no simple-proxy-server daemon is running (no answer on ${box.dir}/run/server.sock)`), elsewhere.stderr);
  box.env.SIMPLE_PROXY_SOCKET = custom;
  const viaEnv = await box.status();
  assert.equal((viaEnv as unknown as { socket: string }).socket, custom);
  delete box.env.SIMPLE_PROXY_SOCKET;
  const stopped = await box.cli(['stop', '--socket', custom]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(!existsSync(custom), 'socket removed');
});

test('service print --user shows what service install --user writes; uninstall removes it, and says so when there is none', { timeout: 120_000 }, async (t) => {
  if (process.platform !== 'linux') return t.skip('the systemd user unit path is Linux-only (the plist is checked in the unit tests)');
  const box = sandbox(config());
  t.after(() => box.cleanup());
  box.env.XDG_CONFIG_HOME = `${box.dir}/xdg`;
  const unit = `${box.dir}/xdg/systemd/user/simple-proxy-server.service`;
  const printed = await box.cli(['service', 'print', '--user', '--config', box.config]);
  assert.equal(printed.code, 0, printed.stderr);
  const [head, ...content] = printed.stdout.trimEnd().split('\n');
  assert.equal(head, `# ${unit}`);
  assert.ok(!existsSync(unit), 'print installs nothing');

  const installed = await box.cli(['service', 'install', '--user', '--config', box.config]);
  assert.equal(installed.code, 0, installed.stderr);
  assert.equal(installed.stdout, `wrote ${unit}\nstart it with: systemctl --user enable --now simple-proxy-server\n`);
  assert.equal(readFileSync(unit, 'utf8').trimEnd(), content.join('\n'));
  assert.match(readFileSync(unit, 'utf8'), new RegExp(`^ExecStart=.* start --foreground --config ${box.config.replaceAll('.', '\\.')}$`, 'm'));

  const removed = await box.cli(['service', 'uninstall', '--user']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, `removed ${unit}\n`);
  assert.ok(!existsSync(unit));
  const again = await box.cli(['service', 'uninstall', '--user']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, new RegExp(`^Error: no service installed at ${unit.replaceAll('.', '\\.')}$`, 'm'));
});
