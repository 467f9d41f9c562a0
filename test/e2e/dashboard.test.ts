import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { httpPort, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { dashboardCommand, NEEDS_TMUX, startOrigin, Tmux } from './tmux-harness.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
/** Screens for docs/dashboard.md, by section title, in the order the tests take them. */
const shots: Record<string, string> = {};

test('dashboard under tmux: traffic, filter, detail, limits, backend test, daemon restart, 80x24, clean exit', { skip: NEEDS_TMUX, timeout: 180_000 }, async (t) => {
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
  shots['Traffic, throughput, backends and limits (100x30)'] = traffic;
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
  // The headers arrive with the daemon's answer; until then the view says it is loading.
  const detail = await tmux.waitFor('the detail view with its headers', (s) => s.includes('Detail ') && !s.includes('(loading)'));
  assert.match(detail, new RegExp(`GET 127\\.0\\.0\\.1:${originPort}/beta`));
  assert.match(detail, /rule Default {3}backend direct/);
  assert.match(detail, /status 200 {3}duration \d+/);
  assert.match(detail, /bytes from client \d+ {3}to client \d+/);
  assert.match(detail, /request headers:[^\n]*\n(│ {2}[^\n]*\n)*│ {2}User-Agent: curl\//, 'the headers as the debugger logged them');
  shots['Detail of one request (Enter)'] = detail;
  await tmux.keys('Tab');
  await tmux.waitFor('the response tab', (s) => s.includes('[Response]') && s.includes('response headers:') && s.includes('the proxy answered: 200'));
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
  // A real burst on a machine that may be busy: hundreds of events a second, and many events per frame drawn.
  assert.ok(perSecond >= 300, `a real burst of 300 events a second or more: ${perSecond}/s`);
  assert.ok(events - eventsBefore >= 10 * frames, `far more events (${events - eventsBefore}) than frames (${frames})`);
  assert.ok(frames >= 3 && frames / seconds <= 15, `${frames} frames in ${burst.ms} ms`);
  const counts = /Traffic (\d+)\/(\d+)/.exec(await tmux.waitFor('the burst in the list', (s) => /Traffic 500\/500/.test(s)))!;
  assert.equal(Number(counts[2]), 500, 'the list keeps its bound');

  await tmux.keys('q');
  const after = await tmux.waitFor('the shell back', (s) => s.includes('DASHBOARD-EXITED'));
  assert.ok(!after.includes('Traffic'), 'the alternate screen is gone: the terminal is as it was');
  assert.deepEqual(tmux.screenState(), { alternate: false, cursor: true });
});

after(() => {
  if (process.env.SIMPLE_PROXY_UPDATE_DOCS !== '1') return;
  const doc = Object.entries(shots)
    .map(([title, screen]) => `## ${title}\n\n\`\`\`\n${screen.replace(/\s+$/gm, '').replace(/\n+$/, '')}\n\`\`\`\n`)
    .join('\n');
  writeFileSync(join(ROOT, 'docs/dashboard.md'), `# The dashboard\n\n\`simple-proxy-server dashboard\` (or \`simple-proxy-client dashboard\`), captured with \`tmux capture-pane\` by \`test/e2e/dashboard.test.ts\` (run it with \`SIMPLE_PROXY_UPDATE_DOCS=1\` to refresh this page).\n\n${doc}`);
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

/** The row drawn in reverse video (the cursor), without its escapes. */
function cursorRow(tmux: Tmux): string | undefined {
  return tmux
    .captureColours()
    .split('\n')
    .find((line) => /\x1b\[(?:[\d;]*;)?7(?:;[\d;]*)?m/.test(line) && line.includes('GET'))
    ?.replace(/\x1b\[[\d;]*m/g, '');
}

test('dashboard under tmux: backfill on open, the cursor on the request, follow, detail tabs, filter language, sort, a restart marked', { skip: NEEDS_TMUX, timeout: 120_000 }, async (t) => {
  const origin = await startOrigin((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, items: [1, 2] }));
  });
  t.after(() => void origin.server.close());
  const originPort = origin.port;
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct
    type: direct
  - name: spare
    type: direct
rules:
  - name: Default
    match: { domains: ["*"] }
    backend: direct
rate_limiting:
  enabled: true
  per_ip:
    requests_per_second: 1
    burst: 8
debug:
  enabled: false
  log_headers: true
  log_body: true
  output: file
  log_file: traffic.log
`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  // Turned on at run time: a restart turns it off, and the dashboard must say so.
  assert.equal((await box.cli(['debug', 'on'])).code, 0);
  const proxy = `http://127.0.0.1:${httpPort(await box.status())}`;
  const get = (path: string, from = '127.0.0.1'): Promise<unknown> => run('curl', ['-s', '-o', '/dev/null', '--interface', from, '-x', proxy, `http://127.0.0.1:${originPort}${path}`]);
  // Before the dashboard opens: five requests kept by the debugger, and refusals by the rate limit.
  for (let i = 0; i < 5; i++) await get(`/before${i}`);
  for (let i = 0; i < 12; i++) await get(`/limited${i}`, '127.0.0.2');

  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(dashboardCommand(box.env, { args: ['--no-color'] }), 110, 34);
  const opened = await tmux.waitFor('the records the daemon kept', (s) => s.includes('/before0') && s.includes('/before4') && /Limits [1-9]\d* hits/.test(s));
  assert.ok(!opened.includes('waiting for traffic'), 'the list opens with what the daemon holds');
  assert.match(opened, /│ip [1-9]/, 'refusal totals by scope from before the dashboard opened');
  assert.match(opened, /Traffic \d+\/\d+ \[follow\]/, 'it opens in follow mode, shown in the title');
  shots['Opened on a busy daemon: kept records and refusal totals loaded (backfill)'] = opened;

  // The cursor goes down to /before2 (newest first: limited rows, then before4, before3, ...).
  const rows = opened.split('\n').filter((line) => line.includes(' GET '));
  const target = rows.findIndex((line) => line.includes('/before2 '));
  assert.ok(target > 0);
  await tmux.keys(...Array.from({ length: target }, () => 'j'));
  await tmux.waitFor('the cursor on /before2', () => cursorRow(tmux)?.includes('/before2 ') === true);
  assert.doesNotMatch(tmux.capture(), /\[follow\]/, 'moving leaves follow mode');
  for (let i = 0; i < 3; i++) await get(`/later${i}`);
  await tmux.waitFor('new requests counted', (s) => /Traffic 20\/20/.test(s));
  assert.match(cursorRow(tmux) ?? '', /\/before2 /, 'new traffic does not move the cursor off the chosen request');
  await tmux.keys('Enter');
  await tmux.waitFor('the detail of the chosen request', (s) => s.includes('Detail ') && s.includes('/before2 '));
  await tmux.keys('n');
  await tmux.waitFor('n: the next request', (s) => s.includes(`GET 127.0.0.1:${originPort}/before1 `));
  await tmux.keys('N', 'N');
  const detail = await tmux.waitFor('N N: back up the list', (s) => s.includes(`GET 127.0.0.1:${originPort}/before3 `));
  assert.match(detail, /\[Request\]/);
  await tmux.keys('Tab');
  const response = await tmux.waitFor('the Response tab with the JSON body pretty-printed', (s) => s.includes('[Response]') && /│ {4}"path": "\/before3",/.test(s));
  assert.match(response, /the proxy answered: 200/);
  shots['Detail: Response tab, a JSON body pretty-printed (Enter, Tab)'] = response;
  await tmux.keys('Tab', 'Tab');
  const route = await tmux.waitFor('the Route tab', (s) => s.includes('[Route]') && s.includes('rule #1 Default'));
  assert.match(route, /backend direct/);
  shots['Detail: Route tab'] = route;
  await tmux.keys('c');
  await tmux.waitFor('the request copied as curl', (s) => new RegExp(`copied as curl: curl -x http://127\\.0\\.0\\.1:\\d+ 'http://127\\.0\\.0\\.1:${originPort}/before3'`).test(s));
  await tmux.keys('R');
  await tmux.waitFor('R: the command line ready to replay it', (s) => /:replay \w+ /.test(s));
  await tmux.keys('Enter');
  shots['Detail: R replays the request and compares it with the original'] = await tmux.waitFor('the replay compared with the original', (s) => /replay of \w+ via direct: 200 in \d+ ms, \d+ B, same body \(original via direct: 200 in/.test(s));
  await tmux.keys('Escape', 'F');
  await tmux.waitFor('follow mode again', (s) => /\[follow\]/.test(s) && cursorRow(tmux)?.includes('/later2 ') === true);

  // The filter language, applied as it is typed; an unknown key is flagged.
  await tmux.keys('/', 'text:status:>=400 !path:x');
  const typing = await tmux.waitFor('the unknown key flagged while typing', (s) => s.includes('unknown key !path:x'));
  assert.ok(typing.includes('/limited11') && !typing.includes('/before1 '), 'the list narrows as you type');
  const flagged = tmux.captureColours().split('\n').find((line) => line.includes('unknown key'));
  assert.match(flagged ?? '', /\x1b\[1m/, 'flagged in bold (no colour under --no-color)');
  await tmux.keys(...Array.from({ length: ' !path:x'.length }, () => 'BSpace'), 'text: dur:<1m !host:/later/', 'Enter');
  const kept = await tmux.waitFor('the filter kept', (s) => s.includes('filter: status:>=400 dur:<1m !host:/later/'));
  assert.ok(kept.includes('/limited11') && !/GET +\S+\/before/.test(kept), 'refused requests only');
  await tmux.keys('Escape', '/', 'text:host:/before[13]/', 'Enter');
  const regex = await tmux.waitFor('a regular expression filter', (s) => s.includes('filter: host:/before[13]/') && s.includes('/before1 ') && s.includes('/before3 '));
  assert.ok(!regex.includes('/before2 '), 'only what the expression matches');
  await tmux.keys('Escape', 's', 's', 'S');
  const sorted = await tmux.waitFor('sorted by bytes, smallest first', (s) => s.includes('sort: bytes ↑'));
  const sizes = sorted
    .split('\n')
    .map((line) => / (\d+)B +\S+ +[│┃]$/.exec(line)?.[1])
    .filter((size) => size !== undefined)
    .map(Number);
  assert.ok(sizes.length > 5 && sizes.every((size, i) => i === 0 || sizes[i - 1] <= size), `smallest first: ${sizes.join(' ')}`);
  await tmux.keys('s', 's', 's', 'S');
  await tmux.waitFor('back to newest first', (s) => !s.includes('sort:'));

  // Actions: export what the list shows as HAR from the command line (Tab completes), the
  // debugger off and on again (d), clear (C).
  const har = join(box.dir, 'listed.har');
  await tmux.keys('/', 'text:host:/before/', 'Enter', ':', 'text:exp', 'Tab');
  await tmux.waitFor('the command completed', (s) => s.includes(':export █'));
  await tmux.keys(`text:${har}`, 'Enter');
  await tmux.waitFor('the export reported', (s) => s.includes('exported 5 of 5 requests to'));
  const exported = JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: { request: { url: string } }[] } };
  assert.deepEqual(exported.log.entries.map((e) => new URL(e.request.url).pathname).sort(), ['/before0', '/before1', '/before2', '/before3', '/before4'], 'the filtered requests, as HAR');
  // b: the rule of the request under the cursor (the newest, in follow mode) to another backend.
  await tmux.keys('Escape', 'b', 'text:sp', 'Tab');
  await tmux.waitFor('the backend name completed', (s) => s.includes(':backend spare█'));
  await tmux.keys('Enter');
  // Its answer and the daemon's reload event both land in the footer: the message log keeps both.
  await tmux.waitFor('the rule switched', (s) => s.includes('rule Default now goes to backend spare') || s.includes('config reloaded'));
  await get('/after-switch');
  await tmux.waitFor('the next request through spare', (s) => /\/after-switch +spare +200/.test(s));
  await tmux.keys('d');
  await tmux.waitFor('the debugger off', (s) => s.includes('debugger off') && !s.includes('│ debug on │'));
  await tmux.keys(':', 'text:debug on', 'Enter');
  await tmux.waitFor('the debugger on again', (s) => s.includes('│ debug on │'));
  await tmux.keys('C');
  await tmux.waitFor('the list cleared', (s) => s.includes('cleared: ') && /Traffic 0\/0/.test(s));
  await tmux.keys('?');
  const help = await tmux.waitFor('the keys of the traffic pane', (s) => s.includes('Keys (any key closes): traffic pane'));
  for (const key of ['F ', 's / S', 'd ', 'e ', 'C ', ': ']) assert.ok(help.includes(`│${key}`), `help lists ${key.trim()}`);
  await tmux.keys('x');

  // A restart of the daemon: marked in the list, and the debugger it turned off is announced.
  assert.equal((await box.cli(['stop'])).code, 0);
  const stale = await tmux.waitFor('the panes marked stale', (s) => s.includes('daemon unreachable') && s.includes('Traffic') && s.includes('(stale)'));
  shots['Daemon gone: panes greyed and marked stale, retrying'] = stale;
  assert.equal((await box.cli(['start'])).code, 0);
  const restarted = await tmux.waitFor('the restart marked', (s) => s.includes('daemon restarted at') && s.includes('debugger is off'));
  assert.ok(!restarted.includes('(stale)'), 'fresh again once connected');
  shots['The daemon restarted: marked in the list, the debugger it turned off announced'] = restarted;
  await tmux.keys('m');
  await tmux.waitFor('the message log', (s) => s.includes('Messages ') && s.includes('debugger is off') && s.includes('rule Default now goes to backend spare'));
  await tmux.keys('x', 'q');
});

test('dashboard under tmux: backends unhealthy first with the reason, never hidden at 80x24, a detail view, a failed test in red', { skip: NEEDS_TMUX, timeout: 120_000 }, async (t) => {
  const origin = await startOrigin();
  t.after(() => void origin.server.close());
  const originPort = origin.port;
  // A port with nothing listening: its backend's checks are refused.
  const closed = await startOrigin();
  const closedPort = closed.port;
  closed.server.close();
  const check = (port: number): string => `health_check: { type: tcp, target: "127.0.0.1:${port}", interval: 500ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 1 }`;
  const backend = (name: string, port: number): string => `  - name: ${name}\n    type: direct\n    ${check(port)}\n`;
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - name: direct
    type: direct
${backend('alpha', originPort)}${backend('bravo', originPort)}${backend('charlie', originPort)}  - name: zulu-down
    type: http
    proxy: { address: "127.0.0.1:${closedPort}" }
    ${check(closedPort)}
rules:
  - name: Default
    match: { domains: ["*"] }
    backend: direct
`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(dashboardCommand(box.env), 80, 24);
  // Named last and listed last in the file, the backend that is down comes first in the pane.
  const small = await tmux.waitFor('the unhealthy backend first', (s) => /Backends 5[^\n]*\n[^\n]*● zulu-down unhealthy/.test(s) && /\+\d+ more/.test(s));
  assert.match(small, /│\+[34] more/, 'what does not fit is counted');
  shots['A backend down, listed first at 80x24 (+N more)'] = small;
  await tmux.keys('Tab', 'Tab');
  await tmux.waitFor('the backends pane focused', (s) => s.includes('▶ Backends'));
  await tmux.keys('Enter');
  const detail = await tmux.waitFor('the backend detail with its reason', (s) => s.includes('Backend zulu-down') && s.includes('reason: ') && s.includes('health check tcp'));
  assert.match(detail, new RegExp(`address 127\\.0\\.0\\.1:${closedPort}`));
  assert.match(detail, new RegExp(`health check tcp 127\\.0\\.0\\.1:${closedPort}, every 500ms, timeout 1s`));
  assert.match(detail, /● unhealthy since \d\d:\d\d:\d\d/);
  assert.match(detail, /reason: .*(refused|ECONNREFUSED)/i);
  await tmux.keys('t');
  const failed = await tmux.waitFor('the failed test', (s) => new RegExp(`zulu-down: failed after \\d+ ms \\(127\\.0\\.0\\.1:${closedPort}\\)`).test(s));
  shots['Backend detail: a failed test (Enter, t)'] = failed;
  const line = tmux.captureColours().split('\n').find((l) => l.includes('zulu-down: failed after'));
  assert.match(line ?? '', /\x1b\[(?:[\d;]*;)?31(?:;[\d;]*)?m[^\x1b]*failed after/, 'a failed test is printed in red');
  await tmux.keys('Escape', 'q');
});

test('dashboard under tmux: the client role shows its server and whether it is reachable, in place of server-side limits', { skip: NEEDS_TMUX, timeout: 90_000 }, async (t) => {
  // Nothing listens on the server's port: the client cannot reach it.
  const closed = await startOrigin();
  const serverPort = closed.port;
  closed.server.close();
  const box = sandbox(
    `client:
  http_port: 0
  socks5_port: 0
server:
  address: "127.0.0.1:${serverPort}"
  protocol: http
rules:
  - name: everything via the server
    match: { domains: ["*"] }
    action: server
`,
    'client',
  );
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(dashboardCommand(box.env, { role: 'client' }), 100, 30);
  const screen = await tmux.waitFor('the server pane', (s) => s.includes('Server') && s.includes(`● 127.0.0.1:${serverPort}`));
  assert.ok(!screen.includes('Limits'), 'no server-side limits on a client');
  assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${serverPort} (reachable|unreachable|not checked) *│`));
  shots['Client role: its server in place of limits'] = screen;
  await tmux.keys('q');
});
