import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { DashboardApp, type DashboardActions } from '../../../src/tui/dashboard-app.js';
import { DashboardModel } from '../../../src/tui/model/dashboard-model.js';
import { backendView, statsAnswer, statusAnswer } from '../../helpers/api-answers.js';

const actions: DashboardActions = {
  reload: async () => 'config reloaded: version test',
  testBackend: async (name) => ({ ok: true, text: `${name}: reachable in 1 ms` }),
  detail: async () => null,
  route: async () => null,
  backendCheck: async () => null,
  copy: () => undefined,
  setDebug: async (on) => `debugger ${on ? 'on' : 'off'}`,
  clear: async () => 'cleared',
  exportHar: async (ids) => `exported ${ids.length}`,
  switchBackend: async (rule, backend) => `rule ${rule} now goes to backend ${backend}`,
  replay: async (id) => ({ ok: true, text: `replay of ${id}` }),
  connections: async () => [],
  closeConnections: async () => 'closed 0 connections',
  quit: () => undefined,
};

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('1,000 events a second redraw at the frame rate, not per event, and the history stays bounded', { timeout: 20_000 }, async () => {
  const model = new DashboardModel(200);
  const app = render(<DashboardApp model={model} actions={actions} frameMs={100} />);
  await tick(150);
  const before = app.frames.length;
  const started = Date.now();
  // 1,000 events in 20 batches 50 ms apart: about a second, longer on a busy machine, so the
  // frame bound follows the time it really took.
  let sent = 0;
  for (let batch = 0; batch < 20; batch++) {
    for (let i = 0; i < 50; i++, sent++) {
      const record = { id: `e${sent}`, startedAt: Date.now(), protocol: 'http' as const, clientAddress: '127.0.0.1', clientPort: 4000, method: 'GET', host: `h${sent % 7}.test`, port: 80, path: '/', bytesIn: 10, bytesOut: 90, status: 200, durationMs: 1 };
      model.apply({ type: 'connection:end', time: Date.now(), record }, Date.now());
    }
    await tick(50);
  }
  const elapsed = Date.now() - started;
  await tick(150);
  const frames = app.frames.length - before;
  assert.ok(frames <= Math.ceil(elapsed / 100) + 6, `${frames} frames for ${sent} events in ${elapsed} ms`);
  assert.ok(frames >= 3, 'it does redraw while events arrive');
  assert.equal(model.traffic.size, 200, 'history bounded');
  assert.match(app.lastFrame() ?? '', /Traffic 200\/200/);
  app.unmount();
});

test('keys reach the view: filter box, help, and quit', { timeout: 10_000 }, async () => {
  let quit = 0;
  const model = new DashboardModel();
  model.apply({ type: 'connection:end', time: Date.now(), record: { id: 'a', startedAt: Date.now(), protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, method: 'GET', host: 'alpha.test', port: 80, path: '/', bytesIn: 1, bytesOut: 1, status: 200, durationMs: 1 } }, Date.now());
  model.apply({ type: 'connection:end', time: Date.now(), record: { id: 'b', startedAt: Date.now(), protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, user: 'alice', method: 'GET', host: 'beta.test', port: 80, path: '/', bytesIn: 1, bytesOut: 1, status: 503, durationMs: 1 } }, Date.now());
  const app = render(<DashboardApp model={model} actions={{ ...actions, quit: () => quit++ }} frameMs={20} />);
  await tick(60);
  app.stdin.write('/');
  await tick(30);
  app.stdin.write('status:5xx');
  await tick(30);
  app.stdin.write('\r');
  await tick(80);
  assert.match(app.lastFrame() ?? '', /alice@127\.0\.0\.1:1 +GET +beta\.test/, 'too narrow for a user column (100): the user goes with the client');
  const filtered = app.lastFrame() ?? '';
  assert.match(filtered, /filter: status:5xx/);
  assert.match(filtered, /beta\.test/);
  assert.doesNotMatch(filtered, /alpha\.test/);
  app.stdin.write('?');
  await tick(80);
  assert.match(app.lastFrame() ?? '', /Keys \(any key closes\)/);
  app.stdin.write('x');
  await tick(30);
  app.stdin.write('q');
  await tick(30);
  assert.equal(quit, 1);
  app.unmount();
});

test('backends show their type and load; limits show open connections against network.limits', { timeout: 10_000 }, async () => {
  const model = new DashboardModel();
  model.applyStatus(
    statusAnswer({ uptimeSeconds: 5, config: { version: 'v1' }, connections: { active: 3, total: 7 }, backends: [backendView({ name: 'eu', type: 'socks5', health: { status: 'healthy', checked: true, latencyMs: 4, uptimePercent: 100 } })] }),
    statsAnswer({
      connectionsActive: 3,
      backends: { eu: { active: 3, total: 7, errors: 0 } },
      busiestClients: [{ client: '192.0.2.7', active: 2 }, { client: '192.0.2.8', active: 1 }],
      limits: { maxConnections: 1000, maxConnectionsPerIp: 2, maxConnectionsPerBackend: 10 },
    }),
  );
  const app = render(<DashboardApp model={model} actions={actions} frameMs={20} />);
  await tick(80);
  const frame = app.lastFrame() ?? '';
  assert.match(frame, /● eu healthy/);
  assert.match(frame, /socks5 4ms f0 up 100% a3\/10/, 'type and figures on the second line when the pane is narrow');
  assert.match(frame, /f: fails {2}a: open/, 'a legend for the short figures');
  assert.match(frame, /open 3\/1000, 2 per IP/);
  assert.match(frame, /192\.0\.2\.7 2\/2 open/);
  assert.match(frame, /config v1 │ 3 open/, 'version and load come before the listener list');
  app.unmount();
});

test('connections view: polled only while shown, x then y closes the selected one and the count goes to the message line', { timeout: 10_000 }, async () => {
  let asked = 0;
  const closed: unknown[] = [];
  let open = [
    { id: 'old', startedAt: Date.now() - 65_000, protocol: 'connect' as const, clientAddress: '127.0.0.9', clientPort: 4100, method: 'CONNECT', host: 'db.test', port: 5432, rule: 'Default', backend: 'direct', bytesIn: 0, bytesOut: 0 },
    { id: 'new', startedAt: Date.now() - 1_000, protocol: 'http' as const, clientAddress: '127.0.0.1', clientPort: 4200, method: 'GET', host: 'web.test', port: 80, path: '/', bytesIn: 0, bytesOut: 2_000 },
  ];
  const model = new DashboardModel();
  const app = render(
    <DashboardApp
      model={model}
      actions={{
        ...actions,
        connections: async () => {
          asked++;
          return open;
        },
        closeConnections: async (target) => {
          closed.push(target);
          open = open.filter((c) => !('id' in target) || c.id !== target.id);
          return 'closed 1 connection';
        },
      }}
      frameMs={20}
    />,
  );
  await tick(150);
  assert.equal(asked, 0, 'nothing is asked while the view is not shown');
  assert.match(app.lastFrame() ?? '', /o connections/, 'the footer names the key');
  app.stdin.write('o');
  await tick(150);
  const frame = app.lastFrame() ?? '';
  assert.ok(asked >= 1);
  assert.match(frame, /Connections 2 open/);
  assert.match(frame, /1m +127\.0\.0\.9:4100 +- +connect +db\.test:5432 +Default +direct +0B +0B +-/, 'oldest first; bytes up, down, and no rate before a second answer');
  assert.match(frame, /web\.test:80\/ +- +- +0B +2\.0K +-/);
  assert.ok(frame.indexOf('db.test') < frame.indexOf('web.test'));
  app.stdin.write('?');
  await tick(80);
  assert.match(app.lastFrame() ?? '', /connections view[\s\S]*X +close every connection/);
  app.stdin.write(' ');
  await tick(50);
  app.stdin.write('x');
  await tick(80);
  assert.match(app.lastFrame() ?? '', /close connection old\? y\/n/);
  app.stdin.write('y');
  await tick(200);
  assert.deepEqual(closed, [{ id: 'old' }]);
  const after = app.lastFrame() ?? '';
  assert.match(after, /closed 1 connection/);
  assert.match(after, /Connections 1 open/, 'asked again at once after closing');
  app.stdin.write('\x1b');
  await tick(100);
  const seen = asked;
  await tick(2_300);
  assert.equal(asked, seen, 'no polling once the view is closed');
  app.unmount();
});
