import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { createBackend } from '../../../src/backends/create-backend.js';
import { HealthChecker } from '../../../src/health/health-checker.js';
import { PASSIVE } from '../../../src/health/check-settings.js';
import type { BackendHealthEvent } from '../../../src/health/health-state.js';

const config = parseConfigText(
  `server:
  http_port: 0
  socks5_port: 0
  bind_address: 127.0.0.1
backends:
  - name: up
    type: http
    proxy: { address: "127.0.0.1:9" }
rules:
  - name: all
    match: { domains: ["*"] }
    backend: up
`,
  'passive.yaml',
  'server',
);

test('an unchecked backend marked unhealthy by traffic is skipped for PASSIVE.holdMs, then unknown (routable) until traffic tells again', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const checker = new HealthChecker();
  checker.sync(config, new Map());
  const events: BackendHealthEvent[] = [];
  checker.on('change', (e) => events.push(e));
  for (let i = 0; i < PASSIVE.unhealthyThreshold; i++) checker.report('up', false, 'upstream 127.0.0.1:9: connection refused');
  assert.equal(checker.usable('up'), false);
  assert.equal(checker.health().up.status, 'unhealthy');
  t.mock.timers.tick(PASSIVE.holdMs - 1);
  assert.equal(checker.usable('up'), false);
  t.mock.timers.tick(1);
  assert.equal(checker.usable('up'), true);
  assert.equal(checker.health().up.status, 'unknown');
  assert.deepEqual(events.map((e) => e.status), ['unhealthy', 'unknown']);
  checker.report('up', true);
  assert.equal(checker.health().up.status, 'healthy');
  checker.report('nobody', false, 'x');
  assert.equal(checker.health().nobody, undefined, 'a name outside the config is ignored');
  checker.stop();
});

test('backend test of the client\'s server goes through it (tcp to the probe target), not just to it like the light check', async (t) => {
  const client = parseConfigText('client:\n  http_port: 0\nserver:\n  address: "127.0.0.1:9"\n  protocol: socks5\nrules: []\n', 'client.yaml', 'client');
  const server = createBackend(client.backends.find((b) => b.name === 'server')!, { guard: () => undefined, network: client.network });
  t.after(() => server.close());
  const checker = new HealthChecker();
  checker.sync(client, new Map([['server', server]]));
  t.after(() => checker.stop());
  const result = await checker.check(server, 1000);
  assert.deepEqual([result.ok, result.type, result.target], [false, 'tcp', 'example.com:80']);
});
