import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { DashboardApp, type DashboardActions } from '../../../src/tui/dashboard-app.js';
import { DashboardModel } from '../../../src/tui/model/dashboard-model.js';

const actions: DashboardActions = {
  reload: async () => 'config reloaded: version test',
  testBackend: async (name) => `${name}: reachable in 1 ms`,
  detail: async () => null,
  quit: () => undefined,
};

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('1,000 events a second redraw at the frame rate, not per event, and the history stays bounded', { timeout: 20_000 }, async () => {
  const model = new DashboardModel(200);
  const app = render(<DashboardApp model={model} actions={actions} frameMs={100} />);
  await tick(150);
  const before = app.frames.length;
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < 1000) {
    for (let i = 0; i < 50; i++, sent++) {
      const record = { id: `e${sent}`, startedAt: Date.now(), protocol: 'http' as const, clientAddress: '127.0.0.1', clientPort: 4000, method: 'GET', host: `h${sent % 7}.test`, port: 80, path: '/', bytesIn: 10, bytesOut: 90, status: 200, durationMs: 1 };
      model.apply({ type: 'connection:end', record }, Date.now());
    }
    await tick(50);
  }
  await tick(150);
  const frames = app.frames.length - before;
  assert.ok(sent >= 900, `sent ${sent} events`);
  assert.ok(frames <= 16, `${frames} frames for ${sent} events in about a second`);
  assert.ok(frames >= 3, 'it does redraw while events arrive');
  assert.equal(model.traffic.size, 200, 'history bounded');
  assert.match(app.lastFrame() ?? '', /Traffic 200\/200/);
  app.unmount();
});

test('keys reach the view: filter box, help, and quit', { timeout: 10_000 }, async () => {
  let quit = 0;
  const model = new DashboardModel();
  model.apply({ type: 'connection:end', record: { id: 'a', startedAt: Date.now(), protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, method: 'GET', host: 'alpha.test', port: 80, path: '/', bytesIn: 1, bytesOut: 1, status: 200, durationMs: 1 } }, Date.now());
  model.apply({ type: 'connection:end', record: { id: 'b', startedAt: Date.now(), protocol: 'http', clientAddress: '127.0.0.1', clientPort: 1, method: 'GET', host: 'beta.test', port: 80, path: '/', bytesIn: 1, bytesOut: 1, status: 503, durationMs: 1 } }, Date.now());
  const app = render(<DashboardApp model={model} actions={{ ...actions, quit: () => quit++ }} frameMs={20} />);
  await tick(60);
  app.stdin.write('/');
  await tick(30);
  app.stdin.write('status:5xx');
  await tick(30);
  app.stdin.write('\r');
  await tick(80);
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
