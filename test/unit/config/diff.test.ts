import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffConfigs } from '../../../src/config/diff.js';
import { parseConfigText } from '../../../src/config/load.js';

const BASE = 'server:\n  http_port: 8080\n  socks5_port: 1080\n  workers: 1\n';
const server = (text: string) => parseConfigText(text, '/etc/simple-proxy/server-config.yaml', 'server', { env: {} });

test('settings a reload cannot apply are named (spec 13.2): ports and bind address, TLS on or off, auth mode, workers; hot-reloadable ones (new certificate files too) are not', () => {
  const before = server(BASE);
  const cases: [string, string, string[]][] = [
    ['a port', BASE.replace('8080', '8081'), ['listeners (ports, bind address)']],
    ['the bind address', `${BASE}  bind_address: "0.0.0.0"\naccess_control:\n  whitelist: ["10.0.0.0/8"]\n`, ['listeners (ports, bind address)']],
    ['TLS turned on', `${BASE}  tls:\n    cert_file: /etc/ssl/proxy.crt\n    key_file: /etc/ssl/proxy.key\n`, ['server.tls (TLS on or off)']],
    ['the auth mode', `${BASE}  auth:\n    mode: native\n    native:\n      users: []\n`, ['server.auth.mode']],
    ['workers', BASE.replace('workers: 1', 'workers: 2'), ['workers']],
    ['rules, backends and timeouts', `${BASE}network:\n  timeouts:\n    connect: 3s\nbackends:\n  - { name: up, type: http, proxy: { address: "127.0.0.1:3128" } }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: up }\n`, []],
  ];
  for (const [what, text, expected] of cases) assert.deepEqual(diffConfigs(before, server(text)).restartRequired, expected, what);
  const withTls = server(`${BASE}  tls:\n    cert_file: /etc/ssl/proxy.crt\n    key_file: /etc/ssl/proxy.key\n`);
  assert.deepEqual(diffConfigs(withTls, server(`${BASE}  tls:\n    cert_file: /etc/ssl/renewed.crt\n    key_file: /etc/ssl/renewed.key\n`)).restartRequired, [], 'new certificate files are served at once');
});

test('a reload preview names rules added, removed, changed and reordered, backends added, removed and changed, and other settings changed', () => {
  const text = `${BASE}backends:
  - { name: direct, type: direct }
  - { name: up, type: http, proxy: { address: "127.0.0.1:3128" } }
  - { name: old, type: socks5, proxy: { address: "127.0.0.1:1080" } }
rules:
  - { name: a, match: { domains: [a.test] }, backend: up }
  - { name: b, match: { domains: [b.test] }, backend: old }
  - { name: c, match: { domains: [c.test] }, backend: direct }
  - { name: all, match: { domains: ["*"] }, backend: direct }
`;
  const before = server(text);
  const after = server(`${BASE}backends:
  - { name: direct, type: direct }
  - { name: up, type: http, proxy: { address: "127.0.0.1:3129" } }
  - { name: new, type: socks5, proxy: { address: "127.0.0.1:1080" } }
rules:
  - { name: c, match: { domains: [c.test] }, backend: direct }
  - { name: a, match: { domains: [a.test, a2.test] }, backend: up }
  - { name: d, match: { domains: [d.test] }, backend: new }
  - { name: all, match: { domains: ["*"] }, backend: direct }
shutdown:
  drain_timeout: 5s
`);
  assert.deepEqual(diffConfigs(before, after), {
    rulesAdded: ['d'],
    rulesRemoved: ['b'],
    rulesChanged: ['a'],
    rulesReordered: true,
    backendsAdded: ['new'],
    backendsRemoved: ['old'],
    backendsChanged: ['up'],
    restartRequired: [],
    settingsChanged: ['shutdown'],
  });
  const same = diffConfigs(before, server(text));
  assert.equal(same.rulesReordered, false);
  assert.deepEqual([same.rulesChanged, same.backendsChanged, same.settingsChanged], [[], [], []]);
});
