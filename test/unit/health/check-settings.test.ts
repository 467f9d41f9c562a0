import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { checkSettings } from '../../../src/health/check-settings.js';

const backends = `backends:
  - name: direct
    type: direct
  - name: up
    type: http
    proxy: { address: "10.0.0.9:3128" }
    health_check:
      interval: "15s"
      type: http
      http: { url: "http://[::1]:8080/health", expected_status: 204 }
  - name: pinged
    type: socks5
    proxy: { address: "socks.example.net:1080" }
    health_check: { type: ping, timeout: "2s" }
  - name: quiet
    type: direct
    health_check: { enabled: false }
rules:
  - name: all
    match: { domains: ["*"] }
    backends: [{ name: up, weight: 3 }, { name: pinged }]
    load_balancing: { algorithm: least_conn }
`;

test('without health_checks: only backends with their own section are checked, with built-in defaults', () => {
  const checks = checkSettings(parseConfigText(backends, 'server-config.yaml', 'server'));
  assert.deepEqual([...checks.keys()], ['up', 'pinged']);
  assert.deepEqual(checks.get('up'), {
    type: 'http',
    intervalMs: 15_000,
    timeoutMs: 5000,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    target: { host: '::1', port: 8080 },
    http: { url: 'http://[::1]:8080/health', expectedStatus: 204 },
  });
  assert.deepEqual(checks.get('pinged'), { type: 'ping', intervalMs: 30_000, timeoutMs: 2000, healthyThreshold: 2, unhealthyThreshold: 3, target: { host: 'socks.example.net', port: 0 } });
});

test('with health_checks: every backend is checked with the global defaults unless it opts out', () => {
  const snapshot = parseConfigText(`health_checks:\n  defaults: { interval: "200ms", timeout: "1s", unhealthy_threshold: 1 }\n${backends}`, 'server-config.yaml', 'server');
  const checks = checkSettings(snapshot);
  assert.deepEqual([...checks.keys()], ['direct', 'up', 'pinged']);
  assert.deepEqual(checks.get('direct'), { type: 'tcp', intervalMs: 200, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 1, target: { host: 'example.com', port: 80 } });
  assert.equal(checks.get('up')!.intervalMs, 15_000, 'the backend\'s own value wins');
  assert.ok(!snapshot.warnings.some((w) => /health_check|load_balancing/.test(w)), `the keys take effect: ${snapshot.warnings.join(' | ')}`);
  assert.deepEqual(snapshot.rules[0].loadBalancing, { algorithm: 'least_conn', stickySessions: false });
  assert.deepEqual(snapshot.rules[0].backends, [{ name: 'up', weight: 3 }, { name: 'pinged', weight: 1 }]);
});

test('an http check without a URL is a config error naming the line', () => {
  const text = 'backends:\n  - name: d\n    type: direct\n    health_check:\n      type: http\nrules:\n  - { name: r, match: { domains: ["*"] }, backend: d }\n';
  assert.throws(() => parseConfigText(text, 'server-config.yaml', 'server'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, ['server-config.yaml:5:7: backends[0].health_check.http: an http check needs "http:" with the url to fetch']);
    return true;
  });
});

test('a ping check of an upstream proxy pings the proxy host, says so, and refuses a target it could not reach through the proxy', () => {
  const snapshot = parseConfigText(backends, 'server-config.yaml', 'server');
  assert.deepEqual(
    snapshot.warnings.filter((w) => /ping/.test(w)),
    ['backend "pinged": its ping check pings the proxy host socks.example.net from this host, not through the proxy; a tcp or http check tests the path through it'],
  );
  const text = 'backends:\n  - name: up\n    type: http\n    proxy: { address: "10.0.0.9:3128" }\n    health_check:\n      type: ping\n      target: "example.org:80"\nrules:\n  - { name: r, match: { domains: ["*"] }, backend: up }\n';
  assert.throws(() => parseConfigText(text, 'server-config.yaml', 'server'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 1);
    assert.match(error.problems[0], /^server-config\.yaml:7:\d+: backends\[0\]\.health_check\.target: a ping cannot go through an upstream proxy: a ping check pings the proxy host itself/);
    return true;
  });
});

test('the client role\'s server gets a light, advisory check of the server itself (no target, no login)', () => {
  const config = parseConfigText('client:\n  http_port: 0\nserver:\n  address: "proxy.example.com:1080"\n  protocol: socks5\nrules: []\n', 'client.yaml', 'client');
  assert.deepEqual(checkSettings(config).get('server'), {
    type: 'hop',
    intervalMs: 15_000,
    timeoutMs: 5000,
    healthyThreshold: 1,
    unhealthyThreshold: 2,
    target: { host: 'proxy.example.com', port: 1080 },
    advisory: true,
  });
  assert.equal(checkSettings(config).has('direct'), false);
});
