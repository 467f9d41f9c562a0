import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFile } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { httpPort, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;

/** A tmux session of its own (own server socket), so tests never touch a user's tmux. */
class Tmux {
  private static made = 0;
  private readonly socket: string;
  constructor(dir: string) {
    // A socket per session: a server still exiting after kill-server makes a new session on
    // the same socket fail with "server exited unexpectedly".
    this.socket = join(dir, `tmux-${++Tmux.made}.sock`);
  }
  private tmux(args: string[]): string {
    const result = spawnSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }
  start(command: string, columns: number, rows: number): void {
    this.tmux(['new-session', '-d', '-s', 'dash', '-x', String(columns), '-y', String(rows), command]);
  }
  capture(): string {
    return this.tmux(['capture-pane', '-p', '-t', 'dash']);
  }
  /** The screen with its colours (SGR escapes). */
  captureColours(): string {
    return this.tmux(['capture-pane', '-p', '-e', '-t', 'dash']);
  }
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      if (key.startsWith('text:')) this.tmux(['send-keys', '-t', 'dash', '-l', key.slice(5)]);
      else this.tmux(['send-keys', '-t', 'dash', key]);
      // A person types slower than tmux: an Escape followed at once by a key reads as Alt+key.
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  /** Whether the alternate screen is on and the cursor shown, as tmux tracks them. */
  screenState(): { alternate: boolean; cursor: boolean } {
    const [alternate, cursor] = this.tmux(['display-message', '-p', '-t', 'dash', '#{alternate_on} #{cursor_flag}']).trim().split(' ');
    return { alternate: alternate === '1', cursor: cursor === '1' };
  }
  /** Appends everything the dashboard writes to the terminal to a file, or stops (no file). */
  pipe(file?: string): void {
    this.tmux(['pipe-pane', '-t', 'dash', ...(file ? ['-o', `cat >> '${file}'`] : [])]);
  }
  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', 'dash', '-x', String(columns), '-y', String(rows)]);
  }
  kill(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server']);
  }
  async waitFor(what: string, check: (screen: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('dashboard under tmux: traffic, filter, detail, limits, backend test, daemon restart, 80x24, clean exit', { skip: hasTmux ? false : 'tmux is not installed (scripts/setup-system.sh installs it)', timeout: 180_000 }, async (t) => {
  const origin = createServer((req, res) => res.end(`ok ${req.url}`));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => void origin.close());
  const originPort = (origin.address() as { port: number }).port;
  // An upstream proxy (another daemon) for a health-checked backend that the test takes down.
  const upstream = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n${TRUSTED_LOOPBACK_YAML}`);
  t.after(() => upstream.cleanup());
  assert.equal((await upstream.cli(['start'])).code, 0);
  const upstreamPort = (await upstream.status()).listeners.find((l) => l.kind === 'http')!.port;
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct
    type: direct
  - name: upstream
    type: http
    proxy: { address: "127.0.0.1:${upstreamPort}" }
    health_check: { type: tcp, target: "127.0.0.1:${originPort}", interval: 500ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 1 }
rules:
  - name: via-upstream
    match: { domains: ["via.test"] }
    backend: upstream
  - name: Default
    match: { domains: ["*"] }
    backend: direct
rate_limiting:
  enabled: true
  per_ip:
    requests_per_second: 1
    burst: 4
debug:
  enabled: true
  log_headers: true
  output: file
  log_file: traffic.log
`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const status = await box.status();
  const proxy = `http://127.0.0.1:${status.listeners.find((l) => l.kind === 'http')!.port}`;
  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  // CI=true as CI runners export it: the dashboard must still draw live on a real terminal.
  tmux.start(`${dashboardCommand(box.env)}; echo DASHBOARD-EXITED; sleep 60`, 100, 30);
  await tmux.waitFor('the connected status line', (s) => s.includes('● connected') && s.includes('Traffic'));

  for (const path of ['/alpha', '/beta']) await run('curl', ['-s', '-o', '/dev/null', '-x', proxy, `http://127.0.0.1:${originPort}${path}`]);
  for (let i = 0; i < 7; i++) await run('curl', ['-s', '-o', '/dev/null', '--interface', '127.0.0.2', '-x', proxy, `http://127.0.0.1:${originPort}/limited${i}`]);
  const traffic = await tmux.waitFor('traffic rows and limit hits', (s) => s.includes(`127.0.0.1:${originPort}/alpha`) && s.includes(`/beta`) && /127\.0\.0\.2 \d+ ip/.test(s));
  assert.match(traffic, /Limits [1-9]\d* hits/);
  assert.match(traffic, /│ip \d+/, 'hits by scope');
  assert.match(traffic, /429/, 'the refused requests are listed with their status');
  assert.match(traffic, /open \d+\/10000, 256 per IP/, 'open connections against network.limits');
  const shots: Record<string, string> = { 'Traffic, throughput, backends and limits (100x30)': traffic };
  // The SGR parameters in force on the rows whose text matches (capture-pane -e keeps colours).
  const rowColours = (row: RegExp): string[][] =>
    tmux
      .captureColours()
      .split('\n')
      .filter((line) => row.test(line.replace(/\x1b\[[\d;]*m/g, '')))
      .map((line) => [...line.matchAll(/\x1b\[([\d;]*)m/g)].flatMap((m) => m[1].split(';')));
  const refused = rowColours(/ 429 /);
  assert.ok(refused.length > 0 && refused.every((sgr) => sgr.includes('33') && !sgr.includes('31')), `429 rows are yellow (4xx): ${JSON.stringify(refused)}`);
  assert.ok(rowColours(/\/alpha /).every((sgr) => sgr.includes('32')), 'a 200 row is green');

  await tmux.keys('/', 'text:beta', 'Enter');
  const filtered = await tmux.waitFor('the filter', (s) => s.includes('filter: beta'));
  assert.ok(filtered.includes('/beta'));
  assert.ok(!filtered.includes('/alpha'), 'the filter narrows the rows');

  await tmux.keys('Enter');
  const detail = await tmux.waitFor('the detail view', (s) => s.includes('Detail '));
  assert.match(detail, new RegExp(`GET 127\\.0\\.0\\.1:${originPort}/beta`));
  assert.match(detail, /rule Default {3}backend direct/);
  assert.match(detail, /status 200 {3}duration \d+/);
  assert.match(detail, /bytes from client \d+ {3}to client \d+/);
  assert.match(detail, /request headers:[^\n]*\n(│ {2}[^\n]*\n)*│ {2}User-Agent: curl\//, 'the headers as the debugger logged them');
  assert.match(detail, /response headers:/);
  shots['Detail of one request (Enter)'] = detail;
  await tmux.keys('Escape');
  await tmux.waitFor('the list again', (s) => s.includes('filter: beta') && !s.includes('Detail '));
  await tmux.keys('Escape');
  await tmux.waitFor('the filter cleared', (s) => s.includes('/alpha'));

  await tmux.keys('?');
  shots['Help overlay (?)'] = await tmux.waitFor('the help', (s) => s.includes('Keys (any key closes)'));
  await tmux.keys('x');

  await tmux.keys('p');
  await tmux.waitFor('the paused list', (s) => s.includes('[PAUSED]'));
  await run('curl', ['-s', '-o', '/dev/null', '-x', proxy, `http://127.0.0.1:${originPort}/while-paused`]);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!tmux.capture().includes('/while-paused'), 'a paused list holds still');
  await tmux.keys('p');
  await tmux.waitFor('the list caught up on resume', (s) => s.includes('/while-paused') && !s.includes('[PAUSED]'));

  // Arrows move between panes as Tab does: right, right, left, Tab is the backends pane.
  await tmux.keys('Right', 'Right', 'Left', 'Tab');
  await tmux.waitFor('the backends hints', (s) => s.includes('f: failures in a row'));
  await tmux.keys('t');
  await tmux.waitFor('the backend test result', (s) => /direct: (reachable in \d+ ms|failed after)/.test(s));

  await tmux.waitFor('the upstream healthy', (s) => s.includes('● upstream healthy') && /http \d+ms f\d+ up \d+%/.test(s));
  assert.equal((await upstream.cli(['stop'])).code, 0);
  shots['A backend goes down'] = await tmux.waitFor('the upstream unhealthy', (s) => s.includes('● upstream unhealthy'));

  await tmux.keys('r');
  await tmux.waitFor('the reload result', (s) => s.includes('config reloaded'));

  assert.equal((await box.cli(['stop'])).code, 0);
  shots['Daemon gone: the dashboard says so and retries'] = await tmux.waitFor('the lost daemon', (s) => s.includes('daemon unreachable'));
  assert.equal((await box.cli(['start'])).code, 0);
  await tmux.waitFor('the daemon back', (s) => s.includes('● connected'));

  tmux.resize(80, 24);
  // A capture can land between the resize and ink's redraw: wait for a whole frame of the new size.
  const small = await tmux.waitFor('the 80x24 layout with every pane', (s) => s.split('\n').some((line) => line.startsWith('└') && line.length <= 80 && line.length > 70) && ['Traffic', 'Throughput', 'Backends', 'Limits'].every((pane) => s.includes(pane)));
  const lines = small.replace(/\n$/, '').split('\n');
  assert.ok(lines.length <= 24, 'fits 24 rows');
  assert.ok(lines.every((line) => [...line].length <= 80), 'fits 80 columns');
  shots['80x24'] = small;

  // A burst of traffic as fast as the proxy takes it: frames stay at the dashboard's rate (ink
  // opens each frame with a synchronized-update mark) and the list keeps its bound.
  const framesFile = join(box.dir, 'frames.out');
  const restarted = await box.status();
  // What the dashboard is fed, counted alongside it.
  const stream = spawn('curl', ['-s', '-N', '--unix-socket', restarted.socket as string, 'http://control/api/events'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => void stream.kill());
  let events = 0;
  stream.stdout.on('data', (chunk: Buffer) => (events += chunk.toString('latin1').split('\n').length - 1));
  // The stream is live once a request made now shows up on it.
  const warmDeadline = Date.now() + 10_000;
  await run('curl', ['-s', '-o', '/dev/null', '-x', `http://127.0.0.1:${httpPort(restarted)}`, `http://127.0.0.1:${originPort}/stream-live`]);
  while (events === 0 && Date.now() < warmDeadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(events > 0, 'the live stream is connected');
  tmux.pipe(framesFile);
  const eventsBefore = events;
  const burst = await burstThrough(httpPort(restarted), originPort, 3000);
  await new Promise((r) => setTimeout(r, 300));
  tmux.pipe();
  stream.kill();
  const frames = readFileSync(framesFile).toString('latin1').split('\x1b[?2026h').length - 1;
  const seconds = burst.ms / 1000;
  const perSecond = Math.round((events - eventsBefore) / seconds);
  t.diagnostic(`burst: ${burst.requests} requests, ${perSecond} live events/s, ${frames} frames (${(frames / seconds).toFixed(1)}/s)`);
  assert.ok(perSecond >= 1000, `a real burst of 1,000 events a second or more: ${perSecond}/s`);
  assert.ok(frames >= 3 && frames / seconds <= 15, `${frames} frames in ${burst.ms} ms`);
  const counts = /Traffic (\d+)\/(\d+)/.exec(await tmux.waitFor('the burst in the list', (s) => /Traffic 500\/500/.test(s)))!;
  assert.equal(Number(counts[2]), 500, 'the list keeps its bound');

  await tmux.keys('q');
  const after = await tmux.waitFor('the shell back', (s) => s.includes('DASHBOARD-EXITED'));
  assert.ok(!after.includes('Traffic'), 'the alternate screen is gone: the terminal is as it was');
  assert.deepEqual(tmux.screenState(), { alternate: false, cursor: true });

  if (process.env.SIMPLE_PROXY_UPDATE_DOCS === '1') {
    const doc = Object.entries(shots)
      .map(([title, screen]) => `## ${title}\n\n\`\`\`\n${screen.replace(/\s+$/gm, '').replace(/\n+$/, '')}\n\`\`\`\n`)
      .join('\n');
    writeFileSync(join(ROOT, 'docs/dashboard.md'), `# The dashboard\n\n\`simple-proxy-server dashboard\` (or \`simple-proxy-client dashboard\`), captured with \`tmux capture-pane\` by \`test/e2e/dashboard.test.ts\` (run it with \`SIMPLE_PROXY_UPDATE_DOCS=1\` to refresh this page).\n\n${doc}`);
  }
});

/** Requests through the proxy for a while, on eight keep-alive connections: how many, and how long it took. */
async function burstThrough(proxyPort: number, originPort: number, forMs: number): Promise<{ requests: number; ms: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const started = Date.now();
  let requests = 0;
  const one = (): Promise<void> =>
    new Promise((done, fail) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: `http://127.0.0.1:${originPort}/burst`, agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => done());
      });
      req.on('timeout', () => req.destroy(new Error('burst request timed out')));
      req.on('error', fail);
      req.end();
    });
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() - started < forMs) {
        await one();
        requests++;
      }
    }),
  );
  agent.destroy();
  return { requests, ms: Date.now() - started };
}

/** Shell words for running the dashboard of a sandbox in tmux (CI=true as CI runners export it). */
function dashboardCommand(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): string {
  const words = Object.entries({ ...env, TERM: 'xterm-256color', CI: 'true' })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/'/g, "'\\''")}'`);
  return `env ${words.join(' ')} ${process.execPath} ${nodeArgs.join(' ')} ${join(ROOT, 'bin/simple-proxy-server.js')} dashboard`;
}

/** What the shell's terminal is like once the dashboard is gone: line mode and echo back, or not. */
const TTY_MODES = `stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '; echo`;

test('dashboard under tmux: a crash and a signal leave the terminal as it was, with the error on the shell screen', { skip: hasTmux ? false : 'tmux is not installed (scripts/setup-system.sh installs it)', timeout: 60_000 }, async (t) => {
  // No daemon: the dashboard runs anyway and says so.
  const box = sandbox('server:\n  http_port: 0\n');
  t.after(() => box.cleanup());
  // A real uncaught exception in the dashboard process, thrown from a module loaded before it
  // once the test creates the trigger file.
  const crash = join(box.dir, 'crash.mjs');
  const trigger = join(box.dir, 'crash-now');
  writeFileSync(crash, `import { existsSync } from 'node:fs';\nsetInterval(() => { if (existsSync(${JSON.stringify(trigger)})) throw new Error('dashboard-crash-for-test'); }, 100).unref();\n`);
  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(`echo SHELL-BEFORE; ${dashboardCommand(box.env, ['--import', crash])}; echo DASHBOARD-EXITED $?; ${TTY_MODES}; sleep 60`, 100, 30);
  await tmux.waitFor('the dashboard', (s) => s.includes('daemon unreachable') && s.includes('Traffic'));
  assert.equal(tmux.screenState().alternate, true, 'the dashboard draws on the alternate screen');
  writeFileSync(trigger, '');
  const crashed = await tmux.waitFor('the shell after the crash', (s) => /DASHBOARD-EXITED 1\n.*icanon/.test(s));
  assert.match(crashed, /^SHELL-BEFORE$/m, 'the shell screen is as it was before');
  assert.match(crashed, /Error: dashboard-crash-for-test/, 'the error is shown on the shell screen, not lost with the alternate one');
  assert.ok(!crashed.includes('Traffic') && !crashed.includes('│'), 'no frame of the dashboard is left behind');
  assert.match(crashed, /^icanon echo$/m, 'line mode and echo are back');
  assert.deepEqual(tmux.screenState(), { alternate: false, cursor: true });
  tmux.kill();

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const pidFile = join(box.dir, `dashboard-${signal}.pid`);
    const shell = new Tmux(box.dir);
    t.after(() => shell.kill());
    shell.start(`sh -c 'echo $$ > ${pidFile}; exec ${dashboardCommand(box.env).replace(/'/g, "'\\''")}'; echo DASHBOARD-EXITED; ${TTY_MODES}; sleep 60`, 100, 30);
    await shell.waitFor('the dashboard', (s) => s.includes('daemon unreachable'));
    process.kill(Number(readFileSync(pidFile, 'utf8')), signal);
    const after = await shell.waitFor(`the shell after ${signal}`, (s) => /DASHBOARD-EXITED\n.*icanon/.test(s));
    assert.ok(!after.includes('Traffic'), `${signal}: the alternate screen is gone`);
    assert.match(after, /^icanon echo$/m, `${signal}: line mode and echo are back`);
    assert.deepEqual(shell.screenState(), { alternate: false, cursor: true }, `${signal}: cursor shown, alternate screen left`);
    shell.kill();
  }
});
