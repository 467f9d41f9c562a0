import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { backendView, statsAnswer, statusAnswer } from '../../helpers/api-answers.js';
import { DashboardModel } from '../../../src/tui/model/dashboard-model.js';
import { fit, formatBytes, formatDuration, sparkline } from '../../../src/tui/model/format.js';
import { LimitStats } from '../../../src/tui/model/limit-stats.js';
import { RateSeries } from '../../../src/tui/model/rate-series.js';
import { parseFilter, statusClass } from '../../../src/tui/model/traffic-filter.js';
import { connectionRows } from '../../../src/tui/model/connection-rows.js';
import { detailLines } from '../../../src/tui/model/detail-lines.js';
import { TrafficHistory } from '../../../src/tui/model/traffic-history.js';
import { toRow } from '../../../src/tui/model/traffic-row.js';
import { activeFilter, INITIAL_UI, onKey, selectedIndex, splitKeys, type KeyPress, type UiState } from '../../../src/tui/model/ui-state.js';

let next = 0;
function record(patch: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return { id: `r${next++}`, startedAt: 1_700_000_000_000, protocol: 'http', clientAddress: '127.0.0.1', clientPort: 5000, method: 'GET', host: 'api.example.com', port: 80, path: '/v1', bytesIn: 100, bytesOut: 900, ...patch };
}

test('traffic history keeps the newest rows within its capacity and updates a record in place', () => {
  const history = new TrafficHistory(3);
  const first = record();
  history.upsert(first, true);
  for (let i = 0; i < 5; i++) history.upsert(record({ path: `/n${i}` }), false);
  assert.equal(history.size, 3);
  assert.deepEqual(history.visible().map((r) => r.path), ['/n4', '/n3', '/n2']);
  assert.equal(history.get(first.id), undefined, 'evicted rows are forgotten by id too');
  const open = record({ path: '/open' });
  history.upsert(open, true);
  history.upsert({ ...open, status: 200, durationMs: 12 }, false);
  assert.equal(history.size, 3);
  assert.deepEqual(history.visible()[0], { ...history.visible()[0], path: '/open', status: 200, open: false });
});

test('a paused history shows what it showed and catches up on resume', () => {
  const history = new TrafficHistory(10);
  history.upsert(record({ path: '/a' }), false);
  history.pause();
  history.upsert(record({ path: '/b' }), false);
  assert.deepEqual(history.visible().map((r) => r.path), ['/a']);
  assert.equal(history.size, 2, 'still collecting while paused');
  history.resume();
  assert.deepEqual(history.visible().map((r) => r.path), ['/b', '/a']);
});

test('filters: free text, host, method, status class and backend', () => {
  const history = new TrafficHistory(10);
  history.upsert(record({ host: 'api.example.com', status: 200, backend: 'direct' }), false);
  history.upsert(record({ host: 'video.example.net', method: 'CONNECT', protocol: 'connect', port: 443, status: 200, backend: 'vpn' }), false);
  history.upsert(record({ host: 'api.example.com', method: 'POST', status: 503, backend: 'vpn' }), false);
  history.upsert(record({ host: 'down.test', status: 502, error: 'refused', backend: 'direct' }), false);
  history.upsert(record({ host: 'busy.test', status: 429, error: 'rate-limited' }), false);
  history.upsert(record({ host: 'broke.test', method: 'CONNECT', protocol: 'connect', port: 443, status: 200, error: 'ECONNRESET', backend: 'direct' }), false);
  const hosts = (input: string): string[] => history.visible(parseFilter(input)).map((r) => `${r.method} ${r.host} ${r.status}`);
  assert.deepEqual(hosts('host:API method:post status:5xx backend:VPN'), ['POST api.example.com 503'], 'keys and values in any case');
  assert.deepEqual(hosts('video'), ['CONNECT video.example.net 200']);
  assert.deepEqual(hosts('method:POST'), ['POST api.example.com 503']);
  assert.deepEqual(hosts('status:5xx'), ['GET down.test 502', 'POST api.example.com 503'], 'a refusal keeps the class of the status it sent');
  assert.deepEqual(hosts('status:4xx'), ['GET busy.test 429']);
  assert.deepEqual(hosts('status:429'), ['GET busy.test 429']);
  assert.deepEqual(hosts('status:err'), ['CONNECT broke.test 200', 'GET busy.test 429', 'GET down.test 502'], 'every failure, whatever it sent');
  assert.deepEqual(hosts('backend:vpn host:api'), ['POST api.example.com 503']);
  assert.deepEqual(hosts(''), history.visible().map((r) => `${r.method} ${r.host} ${r.status}`));
  assert.deepEqual(history.visible().map(statusClass), ['err', '4xx', '5xx', '5xx', '2xx', '2xx'], 'a tunnel that broke after its 200 is a failure; a 429 is a 4xx');
  assert.equal(parseFilter('refused').test(history.visible()[2]), true, 'free text searches the error');
});

test('filter language: negation, alternatives, regular expressions, comparisons, durations and sizes; unknown keys reported', () => {
  const history = new TrafficHistory(10);
  history.upsert(record({ host: 'a.test', status: 200, durationMs: 50, bytesIn: 100, bytesOut: 400, user: 'alice', rule: 'Default', clientAddress: '10.0.0.1' }), false);
  history.upsert(record({ host: 'b.test', status: 404, durationMs: 1500, bytesIn: 100, bytesOut: 2_000_000, user: 'bob', rule: 'Video', clientAddress: '10.0.0.2' }), false);
  history.upsert(record({ host: 'c.example', method: 'CONNECT', protocol: 'connect', port: 443, status: 502, durationMs: 3000, bytesIn: 0, bytesOut: 0, error: 'refused' }), false);
  const hosts = (input: string): string[] => history.visible(parseFilter(input)).map((r) => r.host);
  assert.deepEqual(hosts('!host:b.test'), ['c.example', 'a.test']);
  assert.deepEqual(hosts('status:2xx|5xx'), ['c.example', 'a.test']);
  assert.deepEqual(hosts('status:>=400'), ['c.example', 'b.test']);
  assert.deepEqual(hosts('status:<300'), ['a.test']);
  assert.deepEqual(hosts('dur:>1s'), ['c.example', 'b.test']);
  assert.deepEqual(hosts('dur:<100ms'), ['a.test']);
  assert.deepEqual(hosts('bytes:>1M'), ['b.test']);
  assert.deepEqual(hosts('host:/^[ab]\\.test/'), ['b.test', 'a.test']);
  assert.deepEqual(hosts('user:alice|bob !rule:video'), ['a.test']);
  assert.deepEqual(hosts('client:10.0.0.2'), ['b.test']);
  assert.deepEqual(hosts('proto:connect'), ['c.example']);
  assert.deepEqual(hosts('/EXAMPLE$/'), [], 'a free regex is searched in the whole line, case-insensitive');
  assert.deepEqual(hosts('/c\\.example/'), ['c.example']);
  const odd = parseFilter('colour:red dur:>fast host:/(/ a');
  assert.deepEqual(odd.unknown, ['colour:red']);
  assert.deepEqual(odd.invalid, ['dur:>fast', 'host:/(/']);
  assert.deepEqual(hosts('colour:red'), ['c.example', 'b.test', 'a.test'], 'an unknown key narrows nothing (it is shown in red)');
});

test('sorting by duration, bytes, status and host, either way; markers and backfilled records', () => {
  const history = new TrafficHistory(4);
  history.upsert(record({ id: 'x', startedAt: 3000, host: 'b.test', status: 500, durationMs: 5, bytesOut: 10 }), false);
  history.upsert(record({ id: 'y', startedAt: 4000, host: 'a.test', status: 200, durationMs: 50, bytesOut: 1 }), false);
  const order = (key: 'duration' | 'bytes' | 'status' | 'host', descending: boolean): string[] => history.visible(undefined, { key, descending }).map((r) => r.id);
  assert.deepEqual(order('duration', true), ['y', 'x']);
  assert.deepEqual(order('duration', false), ['x', 'y']);
  assert.deepEqual(order('bytes', true), ['x', 'y']);
  assert.deepEqual(order('status', true), ['x', 'y']);
  assert.deepEqual(order('host', false), ['y', 'x']);
  const added = history.backfill([record({ id: 'y', startedAt: 4000 }), record({ id: 'w', startedAt: 3500 }), record({ id: 'v', startedAt: 1000 })]);
  assert.equal(added, 2, 'records already listed are not added twice');
  assert.deepEqual(history.visible().map((r) => r.id), ['y', 'w', 'x', 'v'], 'backfilled records go in time order');
  history.mark('daemon restarted', 5000);
  assert.deepEqual(history.visible().map((r) => r.marker ?? r.id), ['daemon restarted', 'y', 'w', 'x'], 'the marker is on top, within the bound');
  assert.deepEqual(history.visible(parseFilter('host:')).length, 0);
  assert.ok(history.visible(parseFilter('a.test')).every((r) => r.marker === undefined), 'a filter hides markers');
});

test('rate series: per-second counts over a fixed window, old seconds expire', () => {
  const series = new RateSeries(10);
  const t0 = 1_000_000;
  series.add(t0, 1, 100);
  series.add(t0 + 500, 2, 200);
  series.add(t0 + 1000, 4, 400);
  const { requests, bytes } = series.window(t0 + 2000, 3);
  assert.deepEqual(requests, [0, 3, 4]);
  assert.deepEqual(bytes, [0, 300, 400]);
  assert.deepEqual(series.window(t0 + 60_000, 3).requests, [0, 0, 0], 'a slot reused after the window wraps starts from zero');
  assert.equal(series.window(t0 + 2000).requests.length, 9);
});

test('rate series: columns span at least two minutes, each the per-second average of its seconds', () => {
  const series = new RateSeries(600);
  const t0 = 1_000_000_000;
  for (let s = 0; s < 10; s++) series.add(t0 + s * 1000, s < 5 ? 2 : 4, 1000);
  const { requests, bytes, step } = series.columns(t0 + 10_000, 24);
  assert.equal(step, 5, '24 columns x 5 s = 2 minutes');
  assert.equal(requests.length, 24);
  assert.deepEqual(requests.slice(-2), [2, 4]);
  assert.deepEqual(bytes.slice(-2), [1000, 1000]);
  assert.ok(requests.slice(0, -2).every((v) => v === 0));
  assert.equal(series.columns(t0 + 10_000, 200).step, 1, 'wide enough for one second a column');
  assert.equal(new RateSeries(60).columns(t0, 24).step, 2, 'never past the ring');
});

test('limit stats count by scope and keep a bounded list of top clients', () => {
  const stats = new LimitStats();
  for (let i = 0; i < 5; i++) stats.add({ scope: 'ip', client: '10.0.0.1' }, i);
  for (let i = 0; i < 2; i++) stats.add({ scope: 'user', client: '10.0.0.2', user: 'alice' }, i);
  stats.add({ scope: 'global', client: '10.0.0.3' }, 0);
  for (let i = 0; i < 2000; i++) stats.add({ scope: 'ip', client: `192.0.2.${i}` }, i);
  assert.equal(stats.count, 2008);
  assert.deepEqual(stats.byScope()[0], { scope: 'ip', count: 2005 });
  assert.deepEqual(stats.topClients(2), [
    { client: '10.0.0.1', count: 5, scope: 'ip' },
    { client: 'alice@10.0.0.2', count: 2, scope: 'user' },
  ], 'the heaviest clients survive a flood of one-off ones');
  assert.equal(stats.topClients(5000).length, 1000, 'client table is bounded');
});

test('formatting helpers', () => {
  assert.equal(formatBytes(999), '999B');
  assert.equal(formatBytes(1234), '1.2K');
  assert.equal(formatBytes(56_000_000), '56M');
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(12_500), '13s');
  assert.equal(formatDuration(125_000), '2m');
  assert.equal(fit('abcdef', 4), 'abc…');
  assert.equal(fit('ab', 4, 'right'), '  ab');
  assert.equal(sparkline([0, 1, 2, 4], 6), '   ▂▄█');
  assert.equal(sparkline([0, 0], 2), '  ');
});

const press = (state: UiState, keys: KeyPress[], trafficIds: string[] = ['a', 'b', 'c'], backendCount = 2) => {
  let s = state;
  const commands: string[] = [];
  for (const key of keys) {
    const result = onKey(s, key, { trafficIds, backendCount, backendNames: ['one', 'two'].slice(0, backendCount) });
    s = result.state;
    if (result.command) commands.push(result.command.type === 'test-backend' ? `test:${result.command.index}` : result.command.type);
  }
  return { state: s, commands };
};
const k = (input: string, extra: Partial<KeyPress> = {}): KeyPress => ({ input, ...extra });

test('keys: panes, selection, filter editing, detail, help and commands', () => {
  let { state } = press(INITIAL_UI, [k('', { tab: true }), k('', { tab: true })]);
  assert.equal(state.pane, 'backends');
  ({ state } = press(state, [k('', { tab: true, shift: true }), k('', { leftArrow: true })]));
  assert.equal(state.pane, 'traffic');
  ({ state } = press(state, [k('', { downArrow: true }), k('j'), k('j'), k('j')]));
  assert.equal(state.selectedId, 'c', 'selection stops at the last row');
  const filtered = press(state, [k('/'), k('a'), k('p'), k('x'), k('', { backspace: true }), k('i'), k('', { return: true })]);
  assert.equal(filtered.state.filter, 'api');
  assert.deepEqual(filtered.state.filterHistory, ['api']);
  assert.deepEqual(filtered.commands, [], 'typing q or p in the filter box is text, not a command');
  const cancelled = press(filtered.state, [k('/'), k('x'), k('', { escape: true })]);
  assert.equal(cancelled.state.filter, 'api');
  assert.equal(cancelled.state.editingFilter, false);
  const detail = press(INITIAL_UI, [k('', { downArrow: true }), k('', { return: true })]);
  assert.equal(detail.state.detail, 'b');
  assert.equal(press(detail.state, [k('', { escape: true })]).state.detail, null);
  assert.deepEqual(press(INITIAL_UI, [k('?')]).state.help, true);
  assert.equal(press(press(INITIAL_UI, [k('?')]).state, [k('x')]).state.help, false);
  const commands = press(INITIAL_UI, [k('p'), k('r'), k('t'), k('', { tab: true }), k('', { tab: true }), k('', { downArrow: true }), k('t'), k('q')]).commands;
  assert.deepEqual(commands, ['pause', 'reload', 'test:1', 'quit'], 't tests only in the backends pane');
  const backend = press(INITIAL_UI, [k('', { tab: true }), k('', { tab: true }), k('', { downArrow: true }), k('', { return: true })]);
  assert.equal(backend.state.backendDetail, 'two', 'Enter on a backend opens its detail');
  assert.deepEqual(press(backend.state, [k('t'), k('', { escape: true })]).commands, ['test:1']);
  assert.deepEqual(press(INITIAL_UI, [k('c', { ctrl: true })]).commands, ['quit']);
  assert.equal(press(INITIAL_UI, [k('', { return: true })], []).state.detail, null, 'no detail without rows');
});

test('selection stays on the request as rows arrive; follow mode stays on the newest; n/N move the detail', () => {
  assert.equal(selectedIndex(INITIAL_UI, ['a', 'b']), 0, 'the dashboard opens following the newest');
  let { state } = press(INITIAL_UI, [k('j')], ['a', 'b', 'c']);
  assert.equal(state.selectedId, 'b');
  assert.equal(state.follow, false, 'moving leaves follow mode');
  assert.equal(selectedIndex(state, ['new1', 'new2', 'a', 'b', 'c']), 3, 'new rows above do not move the cursor off b');
  ({ state } = press(state, [k('', { return: true })], ['new1', 'new2', 'a', 'b', 'c']));
  assert.equal(state.detail, 'b', 'Enter opens the request under the cursor');
  ({ state } = press(state, [k('n')], ['new1', 'new2', 'a', 'b', 'c']));
  assert.equal(state.detail, 'c');
  ({ state } = press(state, [k('N'), k('N')], ['new1', 'new2', 'a', 'b', 'c']));
  assert.equal(state.detail, 'a');
  assert.equal(state.selectedId, 'a', 'the cursor goes along');
  ({ state } = press(state, [k('', { escape: true }), k('F')], ['new1', 'new2', 'a', 'b', 'c']));
  assert.equal(state.follow, true);
  assert.equal(selectedIndex(state, ['newest', 'new1']), 0);
  ({ state } = press(state, [k('F')], ['newest', 'new1']));
  assert.equal(state.follow, false);
  assert.equal(state.selectedId, 'newest', 'leaving follow keeps the row it was on');
  ({ state } = press(state, [k('s'), k('s'), k('S')]));
  assert.deepEqual(state.sort, { key: 'bytes', descending: false });
  ({ state } = press(state, [k('/'), k('x'), k('', { return: true }), k('/'), k('', { upArrow: true })]));
  assert.equal(state.filterInput, 'x', 'up in the filter box brings back the last filter');
  assert.equal(activeFilter(state), 'x', 'the list narrows as you type');
});

test('the command line completes and runs commands; d, C and e act at once', () => {
  const typed = press(INITIAL_UI, [k(':'), k('d'), k('', { tab: true })]);
  assert.equal(typed.state.commandInput, 'debug o', 'several matches: completed as far as they agree');
  const run = press(typed.state, [k('f'), k('f'), k('', { return: true })]);
  assert.deepEqual(run.commands, ['debug']);
  assert.equal(run.state.commandInput, null);
  assert.equal(press(INITIAL_UI, [k(':'), k('e'), k('x'), k('', { tab: true })]).state.commandInput, 'export ');
  assert.deepEqual(press(INITIAL_UI, [k(':'), k('n'), k('o'), k('', { return: true })]).commands, ['unknown-command']);
  assert.deepEqual(press(INITIAL_UI, [k('d'), k('C'), k('e')]).commands, ['debug', 'clear', 'export-har']);
  const switched = press(INITIAL_UI, [k('b'), k('t'), k('', { tab: true })]);
  assert.equal(switched.state.commandInput, 'backend two', 'b opens the command line; Tab completes backend names');
  assert.deepEqual(press(switched.state, [k('', { return: true })]).commands, ['switch-backend']);
});

test('R in a request\'s detail opens the command line to replay it; Tab completes a backend; force is a word of its own', () => {
  const detail = press(INITIAL_UI, [k('', { downArrow: true }), k('', { return: true })]).state;
  const opened = press(detail, [k('R')]).state;
  assert.equal(opened.commandInput, 'replay b ');
  const completed = press(opened, [k('t'), k('', { tab: true })]).state;
  assert.equal(completed.commandInput, 'replay b two');
  const run = (text: string) => onKey({ ...INITIAL_UI, commandInput: text }, k('', { return: true }), { trafficIds: [], backendCount: 2 }).command;
  assert.deepEqual(run('replay b two'), { type: 'replay', id: 'b', backend: 'two', force: false });
  assert.deepEqual(run('replay b '), { type: 'replay', id: 'b', force: false });
  assert.deepEqual(run('replay b force one'), { type: 'replay', id: 'b', backend: 'one', force: true });
  assert.equal(run('replay b one two')?.type, 'unknown-command');
});

test('keys that arrive in one chunk are taken one by one', () => {
  assert.deepEqual(splitKeys({ input: '\t\tt' }), [{ input: '', tab: true }, { input: '', tab: true }, { input: 't' }]);
  assert.deepEqual(splitKeys({ input: 'ab\r' }), [{ input: 'a' }, { input: 'b' }, { input: '', return: true }]);
  assert.deepEqual(splitKeys({ input: 'x\x7f' }), [{ input: 'x' }, { input: '', backspace: true }]);
  assert.deepEqual(splitKeys({ input: 'q' }), [{ input: 'q' }]);
  assert.deepEqual(splitKeys({ input: '', tab: true }), [{ input: '', tab: true }]);
  assert.deepEqual(splitKeys({ input: '[A', upArrow: true }), [{ input: '[A', upArrow: true }]);
  const ctx = { trafficIds: [], backendCount: 2 };
  const state = splitKeys({ input: '\t\tt' }).reduce<{ state: UiState; command?: unknown }>((acc, key) => onKey(acc.state, key, ctx), { state: INITIAL_UI });
  assert.equal(state.state.pane, 'backends');
  assert.deepEqual(state.command, { type: 'test-backend', index: 0 });
});

test('dashboard model: live events, status polls and health events', () => {
  const model = new DashboardModel(100);
  const r = record({ backend: 'direct' });
  model.apply({ type: 'connection:start', time: 1000, record: r }, 1000);
  model.apply({ type: 'connection:end', time: 1500, record: { ...r, status: 200, durationMs: 5 } }, 1500);
  model.apply({ type: 'limit:hit', time: 1500, hit: { scope: 'ip', client: '127.0.0.2', reason: 'rate', protocol: 'http', time: 1500 } }, 1500);
  model.apply({ type: 'reload', time: 1600, ok: false, errors: ['x.yaml:1:1: bad'] }, 1600);
  assert.equal(model.traffic.size, 1);
  assert.equal(model.traffic.visible()[0].open, false);
  assert.deepEqual(model.series.window(2500, 2).requests, [0, 1]);
  assert.deepEqual(model.series.window(2500, 2).bytes, [0, 0], 'an ended record adds no bytes: they were told as they flowed');
  model.apply({ type: 'throughput', time: 2100, bytes: 4096 }, 2100);
  assert.deepEqual(model.series.window(3500, 2).bytes, [0, 4096], 'bytes moved by open connections count in the second they were told');
  assert.equal(model.limits.count, 1);
  assert.deepEqual(model.message, { text: 'reload rejected: x.yaml:1:1: bad', error: true, at: 1600 });
  model.applyStatus(
    statusAnswer({ uptimeSeconds: 61, listeners: [{ kind: 'http', host: '127.0.0.1', port: 8080, tls: false }], config: { version: 'abc', source: '/etc/x.yaml' }, connections: { active: 2, total: 9 }, backends: [backendView({ name: 'direct', connections: { total: 9, errors: 1 } })] }),
    statsAnswer({
      connectionsActive: 2,
      backends: { direct: { active: 2, total: 9, errors: 1 } },
      busiestClients: [{ client: '127.0.0.2', active: 2 }],
      limits: { maxConnections: 100, maxConnectionsPerIp: 4, maxConnectionsPerBackend: 50 },
      descriptors: { open: 120, limit: 1024, exhausted: { accept: 1, dial: 2 } },
    }),
  );
  assert.equal(model.summary?.listeners, 'http 127.0.0.1:8080');
  assert.deepEqual(model.backends[0], { name: 'direct', type: 'direct', address: null, health: 'unknown', since: model.backends[0].since, reason: undefined, latencyMs: null, failures: 0, uptimePercent: null, active: 2, total: 9, errors: 1, limit: 50, checks: [], lastCheck: null });
  assert.deepEqual(model.load, { active: 2, maxConnections: 100, maxConnectionsPerIp: 4, files: { open: 120, limit: 1024, refused: 3 }, busiest: [{ client: '127.0.0.2', active: 2 }] });
  model.apply({ type: 'backend:health', time: 3000, backend: 'direct', healthy: false, status: 'unhealthy', latencyMs: 40, consecutiveFailures: 3, lastCheck: 3000, reason: 'timeout' }, 3000);
  assert.equal(model.backends[0].health, 'unhealthy');
  assert.equal(model.backends[0].failures, 3);
});

test('detail lines: loading while the daemon answers, headers once it did, "not recorded" only when it kept none', () => {
  const row = toRow(record(), false);
  const loading = detailLines('request', row, undefined, null).join('\n');
  assert.match(loading, /request headers:\n {2}\(loading\)/);
  assert.doesNotMatch(loading, /not recorded/);
  const kept = detailLines('request', row, { ...record(), requestHeaders: ['User-Agent', 'curl/8'] }, null).join('\n');
  assert.match(kept, /request headers:\n {2}User-Agent: curl\/8/);
  assert.match(detailLines('response', row, null, null).join('\n'), /response headers:\n {2}\(not recorded\)/);
});

test('connection rows: oldest first, age as of now, bytes so far each way, rate from the growth since the previous answer', () => {
  const now = 1_700_000_100_000;
  const rows = connectionRows(
    [
      record({ id: 'new', startedAt: now - 2_000, protocol: 'http', bytesIn: 10, bytesOut: 1990, rule: 'api', backend: 'eu' }),
      record({ id: 'old', startedAt: now - 90_000, protocol: 'connect', clientAddress: '::1', clientPort: 7, user: 'alice', method: 'CONNECT', host: 'db.test', port: 5432, path: undefined, bytesIn: 0, bytesOut: 0 }),
    ],
    now,
    { records: [record({ id: 'new', bytesIn: 10, bytesOut: 990 })], at: now - 2_000 },
  );
  assert.deepEqual(rows.map((r) => r.id), ['old', 'new']);
  assert.deepEqual(rows[0], { id: 'old', client: '::1', age: '1m', clientText: '[::1]:7', user: 'alice', protocol: 'connect', target: 'db.test:5432', rule: '-', backend: '-', up: '0B', down: '0B', rate: '-' });
  assert.equal(rows[1].age, '2.0s');
  assert.equal(rows[1].target, 'api.example.com:80/v1');
  assert.deepEqual([rows[1].up, rows[1].down, rows[1].rate], ['10B', '2.0K', '500B/s'], '1000 bytes more in 2 s');
  assert.equal(rows[1].clientText, '127.0.0.1:5000');
  const [udp] = connectionRows([record({ id: 'u', protocol: 'udp', method: 'UDP', host: '192.0.2.53', port: 53, path: undefined, udp: { datagramsIn: 3, datagramsOut: 2, dropped: 1, destinations: ['192.0.2.53:53'], destinationCount: 1 } })], now);
  assert.equal(udp.target, '192.0.2.53:53 (3↑ 2↓ datagrams, 1 dropped)', 'an association shows its datagrams each way');
});

test('connections view keys: o opens it, x and X ask, y closes, anything else cancels, Esc goes back', () => {
  const connections = [{ id: 'c1', client: '127.0.0.1' }, { id: 'c2', client: '127.0.0.2' }];
  const ctx = { trafficIds: [], backendCount: 0, connections };
  let step = onKey(INITIAL_UI, { input: 'o' }, ctx);
  assert.equal(step.state.connections, true);
  step = onKey(step.state, { input: '', downArrow: true }, ctx);
  step = onKey(step.state, { input: 'j' }, ctx);
  assert.equal(step.state.connectionIndex, 1, 'the cursor stops at the last row');
  step = onKey(step.state, { input: 'x' }, ctx);
  assert.deepEqual(step.state.confirmClose, { id: 'c2' });
  assert.equal(step.command, undefined, 'nothing is closed before y');
  step = onKey(step.state, { input: 'n' }, ctx);
  assert.equal(step.state.confirmClose, null);
  assert.equal(step.command, undefined);
  step = onKey(step.state, { input: 'X' }, ctx);
  assert.deepEqual(step.state.confirmClose, { client: '127.0.0.2' });
  step = onKey(step.state, { input: 'y' }, ctx);
  assert.deepEqual(step.command, { type: 'close-connections', target: { client: '127.0.0.2' } });
  assert.equal(step.state.confirmClose, null);
  step = onKey(step.state, { input: 'k' }, ctx);
  step = onKey(step.state, { input: 'x' }, ctx);
  step = onKey(step.state, { input: 'y' }, ctx);
  assert.deepEqual(step.command, { type: 'close-connections', target: { id: 'c1' } });
  assert.equal(onKey(step.state, { input: 'x' }, { ...ctx, connections: [] }).state.confirmClose, null, 'x on an empty list asks nothing');
  step = onKey(step.state, { input: '', escape: true }, ctx);
  assert.equal(step.state.connections, false);
  assert.equal(onKey(step.state, { input: 'x' }, ctx).command, undefined, 'x does nothing outside the view');
});
