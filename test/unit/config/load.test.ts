import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, locateConfig, parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

function problems(text: string, role: 'server' | 'client' = 'server', env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, '/etc/simple-proxy/server-config.yaml', role, { env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the config to be rejected');
}

test('the spec examples load verbatim, with their warnings', async () => {
  const server = await loadConfig('examples/server-config.yaml', 'server');
  assert.deepEqual(server.listeners, [
    { kind: 'http', host: '0.0.0.0', port: 8080 },
    { kind: 'socks5', host: '0.0.0.0', port: 1080 },
  ]);
  assert.deepEqual(server.rules.map((r) => [r.name, r.backends[0].name]), [
    ['Crunchyroll via Germany', 'germany'],
    ['Anime via Japan', 'japan'],
    ['US streaming', 'us-proxy'],
    ['Default', 'direct'],
  ]);
  assert.deepEqual(server.backends.find((b) => b.name === 'us-proxy'), { name: 'us-proxy', type: 'http', host: 'proxy.example.com', port: 8080, auth: undefined });
  assert.deepEqual(server.backends.filter((b) => b.unavailable).map((b) => b.name), ['germany', 'japan', 'uk-vpn']);
  assert.ok(server.warnings.includes('backend "germany" is unavailable: wireguard config file /path/to/germany.conf cannot be read (no such file)'));
  const notYet = server.warnings.find((w) => w.startsWith('no effect yet: '));
  assert.ok(notYet && !/rate_limiting|access_control|access_log|network\.limits/.test(notYet), `traffic policy keys take effect: ${notYet}`);
  assert.equal(server.network.timeouts.connectMs, 10_000);
  assert.equal(server.shutdown.drainTimeoutMs, 30_000);

  const client = await loadConfig('examples/client-config.yaml', 'client');
  assert.deepEqual(client.backends.map((b) => `${b.name}:${b.type}`), ['direct:direct', 'server:server']);
  assert.deepEqual(client.backends[1], { name: 'server', type: 'server', protocol: 'http', host: 'proxy-server.example.com', port: 8080, auth: undefined });
  assert.deepEqual(client.rules.map((r) => r.backends[0].name), ['server', 'server', 'direct']);
  assert.ok(client.warnings.includes('tray: not supported, use the dashboard command'));
});

test('the embedded default is a working local proxy per role', async () => {
  const server = await loadConfig(null, 'server');
  assert.equal(server.source, null);
  assert.deepEqual(server.listeners.map((l) => `${l.kind} ${l.host}:${l.port}`), ['http 127.0.0.1:8080', 'socks5 127.0.0.1:1080']);
  assert.deepEqual(server.rules, [{ name: 'Default', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] }]);
  assert.deepEqual(server.warnings, []);
  const client = await loadConfig(null, 'client');
  assert.deepEqual(client.listeners.map((l) => `${l.kind} ${l.host}:${l.port}`), ['http 127.0.0.1:3128', 'socks5 127.0.0.1:1081']);
  assert.equal(client.workers, 1);
});

test('broken configs: each problem names file, line, column, path and what was expected', () => {
  const cases: [string, string, string[]][] = [
    ['mistyped key', 'server:\n  http_prot: 8080\n', ['server-config.yaml:2:3: server.http_prot: unknown key (did you mean "http_port"?) (expected one of: http_port, socks5_port, bind_address, sniff, web_ui_port, log_level, workers, tls, proxy_protocol, auth)']],
    ['unknown top-level section', 'backend:\n  - name: x\n', ['server-config.yaml:1:1: backend: unknown key (did you mean "backends"?) (expected one of: server, backends, rules, network, rule_sets, rate_limiting, access_control, access_log, state, health_checks, metrics, shutdown, reload, debug, management, socks5, config)']],
    ['wrong type', 'server:\n  http_port: "eighty"\n', ['server-config.yaml:2:14: server.http_port: expected a port number (0-65535), got string "eighty"']],
    ['bad enum', 'server:\n  log_level: verbos\n', ['server-config.yaml:2:14: server.log_level: "verbos" is not allowed (expected one of: "debug", "info", "warn", "error")']],
    ['enum near miss', 'backends:\n  - name: p\n    type: sock5\n    proxy: { address: "h:1" }\n', ['server-config.yaml:3:11: backends[0].type: "sock5" is not allowed (did you mean "socks5"?) (expected one of: "direct", "http", "socks5", "wireguard", "openvpn")']],
    ['unknown backend', 'backends:\n  - name: germany\n    type: direct\nrules:\n  - name: r\n    match: { domains: ["*"] }\n    backend: germny\n', ['server-config.yaml:7:14: rules[0].backend: unknown backend "germny" (did you mean "germany"?) (defined: germany)']],
    ['duplicate names', 'backends:\n  - { name: d, type: direct }\n  - { name: d, type: direct }\nrules:\n  - { name: r, match: { domains: ["*"] }, backend: d }\n  - { name: r, match: { domains: [x.com] }, backend: d }\n', ['server-config.yaml:3:13: backends[1].name: duplicate backend name "d" (first defined at backends[0])', 'server-config.yaml:6:13: rules[1].name: duplicate rule name "r" (first defined at rules[0])']],
    ['missing env var', 'backends:\n  - name: p\n    type: http\n    proxy:\n      address: "h:1"\n      password: ${PROXY_PASSWORD}\n', ['server-config.yaml:6:17: environment variable PROXY_PASSWORD is not set (used as ${PROXY_PASSWORD})']],
    ['bad duration', 'network:\n  timeouts:\n    connect: 10 seconds\n', ['server-config.yaml:3:14: network.timeouts.connect: "10 seconds" is not a duration (expected something like "10s", "1m30s" or "500ms")']],
    ['keepalive interval out of range', 'network:\n  keepalive:\n    interval: 500ms\n', ['server-config.yaml:3:15: network.keepalive.interval: "500ms" is out of range: TCP keepalive takes 1s to 32767s']],
    ['accept_grace not shorter than force_timeout', 'shutdown:\n  accept_grace: 60s\n  force_timeout: 60s\n', ['server-config.yaml:2:17: shutdown.accept_grace: accept_grace (60s) must be shorter than force_timeout (60s): the process exits at force_timeout, counted from the stop, the grace included']],
    ['duration as a number', 'shutdown:\n  drain_timeout: 30\n', ['server-config.yaml:2:18: shutdown.drain_timeout: expected a duration like "10s", "1m30s" or "500ms", got number 30']],
    ['bad address', 'backends:\n  - name: p\n    type: socks5\n    proxy:\n      address: "socks.example.com"\n', ['server-config.yaml:5:16: backends[0].proxy.address: "socks.example.com" is not an address (expected "host:port" or "[ipv6]:port" with a port 1-65535)']],
    ['port out of range', 'server:\n  socks5_port: 70000\n', ['server-config.yaml:2:16: server.socks5_port: expected a port number (0-65535)']],
    ['bad bind address', 'server:\n  bind_address: "300.1.1.1:80"\n', ['server-config.yaml:2:17: server.bind_address: "300.1.1.1:80" is not an IP address or host name']],
    ['YAML syntax error', 'server:\n  http_port: 8080\n   socks5_port: 1080\n', ['server-config.yaml:2:14: YAML syntax error: Nested mappings are not allowed in compact mappings']],
    ['bad pattern', 'rules:\n  - name: a\n    match: { domains: ["*.exa*mple.com"] }\n    backend: direct\n', ['server-config.yaml:3:24: rules[0].match.domains[0]: "*.exa*mple.com" is not a valid domain pattern (expected "*.example.com")']],
    ['rule without a backend', 'rules:\n  - name: a\n    match: { domains: ["*"] }\n', ['server-config.yaml:2:5: rules[0]: a rule needs exactly one of "backend", "backends" or "action: reject"']],
    ['PROXY protocol without trusted balancers', 'server:\n  proxy_protocol: { enabled: true }\n', ['server-config.yaml:2:19: server.proxy_protocol.trusted: PROXY protocol needs "trusted": the load balancers\' addresses (a header from anyone else is never believed)']],
    ['backend without its section', 'backends:\n  - name: g\n    type: wireguard\n', ['server-config.yaml:2:5: backends[0]: a backend of type "wireguard" needs a "wireguard:" section']],
    ['ldap mode without its section', 'server:\n  auth:\n    mode: ldap\n', ['server-config.yaml:3:11: server.auth.mode: mode "ldap" needs a "server.auth.ldap:" section (server, base_dn, user_filter)']],
    ['oauth JWTs without an audience', 'server:\n  auth:\n    mode: oauth\n    oauth:\n      jwt: { issuer: "https://idp.example" }\n', ['server-config.yaml:5:12: server.auth.oauth.jwt: JWT validation needs jwt.audience: a token issued for another application must not pass']],
    ['ldap user filter without %s', 'server:\n  auth:\n    mode: ldap\n    ldap: { server: "ldap://x", base_dn: "dc=x", user_filter: "(uid=bob)" }\n', ['server-config.yaml:4:63: server.auth.ldap.user_filter: must contain %s (the user name)']],
    ['not a mapping', '- just\n- a list\n', ['server-config.yaml:1:1: expected a mapping of sections (like "server:" and "rules:") at the top level']],
  ];
  for (const [name, text, expected] of cases) assert.deepEqual(problems(text), expected, name);
});

test('client dialect errors', () => {
  assert.deepEqual(problems('rules:\n  - name: a\n    match: { domains: ["*"] }\n    action: server\n', 'client'), [
    'server-config.yaml:4:13: rules[0].action: "server" needs a "server:" section with the address of the simple-proxy server',
  ]);
  assert.deepEqual(problems('server:\n  address: "h:1"\n  protocol: quic\n', 'client'), ['server-config.yaml:3:13: server.protocol: "quic" is not allowed (expected one of: "http", "https", "socks5")']);
});

test('TLS files resolve against the directory of the config file, not the working directory', () => {
  const server = parseConfigText('server:\n  tls: { cert_file: tls/server.crt, key_file: /abs/server.key }\n', '/etc/simple-proxy/server-config.yaml', 'server');
  assert.deepEqual(server.listeners[0].tls, { certFile: '/etc/simple-proxy/tls/server.crt', keyFile: '/abs/server.key' });
  const client = parseConfigText('server:\n  address: "h:1"\n  protocol: https\n  tls: { ca_file: ca.crt }\n', '/home/u/.config/simple-proxy/client-config.yaml', 'client');
  assert.deepEqual(client.backends.find((b) => b.name === 'server'), {
    name: 'server',
    type: 'server',
    protocol: 'https',
    host: 'h',
    port: 1,
    auth: undefined,
    tls: { caFile: '/home/u/.config/simple-proxy/ca.crt', servername: undefined },
  });
});

test('${VAR} and ${VAR:-default} substitution', () => {
  const text = 'server:\n  http_port: 8080\nbackends:\n  - name: p\n    type: http\n    proxy:\n      address: "${UP_HOST}:3128"\n      username: ${UP_USER:-anonymous}\n      password: ${UP_PASS}\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: p }\n';
  const snapshot = parseConfigText(text, null, 'server', { env: { UP_HOST: 'proxy.internal', UP_PASS: 's3cret' } });
  assert.deepEqual(snapshot.backends[0], { name: 'p', type: 'http', host: 'proxy.internal', port: 3128, auth: { username: 'anonymous', password: 's3cret' } });
});

test('every problem is reported, not just the first', () => {
  const all = problems('server:\n  http_port: x\n  log_level: loud\nnetwork:\n  timeouts: { idle: forever }\n');
  assert.equal(all.length, 3);
  try {
    parseConfigText('server:\n  http_port: x\n  log_level: loud\n', '/x/server-config.yaml', 'server');
  } catch (error) {
    assert.match((error as Error).message, /\(and 1 more problem\)$/);
  }
});

test('shadowed rules are a warning naming both rules', () => {
  const snapshot = parseConfigText(
    'rules:\n  - { name: wide, match: { domains: ["*.example.com"] }, backend: direct }\n  - { name: narrow, match: { domains: ["api.example.com", "example.com"] }, backend: direct }\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n  - { name: never, match: { domains: ["other.org"] }, backend: direct }\n',
    null,
    'server',
  );
  assert.deepEqual(snapshot.warnings, [
    'rule "narrow" can never match: earlier rule "wide" already matches every domain it lists',
    'rule "never" can never match: earlier rule "all" already matches every domain it lists',
  ]);
});

test('tunnel files: missing or broken makes only that backend unavailable; strict makes it an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-config-'));
  writeFileSync(join(dir, 'good.conf'), '[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.0.0.2/32\n\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nEndpoint = 127.0.0.1:51820\nAllowedIPs = 0.0.0.0/0\n');
  writeFileSync(join(dir, 'broken.conf'), '[Interface]\nPrivateKey = nope\n');
  const text = `backends:\n  - { name: direct, type: direct }\n  - { name: good, type: wireguard, wireguard: { config_file: good.conf } }\n  - { name: broken, type: wireguard, wireguard: { config_file: broken.conf } }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n`;
  const path = join(dir, 'server-config.yaml');
  const snapshot = parseConfigText(text, path, 'server');
  assert.equal(snapshot.backends[1].unavailable, undefined);
  assert.equal(snapshot.backends[2].unavailable, `${join(dir, 'broken.conf')}: line 2: PrivateKey is not a base64 WireGuard key`);
  assert.throws(() => parseConfigText(text, path, 'server', { strict: true }), (error: ConfigError) => {
    assert.deepEqual(error.problems, [`server-config.yaml:4:64: backends[2].wireguard.config_file: ${join(dir, 'broken.conf')}: line 2: PrivateKey is not a base64 WireGuard key`]);
    return true;
  });
});

test('discovery order: flag, $SIMPLE_PROXY_CONFIG, ./, user config dir, then the embedded default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-discovery-'));
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const xdg = join(dir, 'xdg');
  assert.deepEqual(await locateConfig('server', undefined, { XDG_CONFIG_HOME: xdg }), { path: null, origin: 'embedded' });
  mkdirSync(join(xdg, 'simple-proxy'), { recursive: true });
  writeFileSync(join(xdg, 'simple-proxy', 'client-config.yaml'), '');
  assert.deepEqual(await locateConfig('client', undefined, { XDG_CONFIG_HOME: xdg }), { path: join(xdg, 'simple-proxy', 'client-config.yaml'), origin: 'user' });
  writeFileSync(join(dir, 'client-config.yaml'), '');
  assert.equal((await locateConfig('client', undefined, { XDG_CONFIG_HOME: xdg })).origin, 'cwd');
  assert.deepEqual(await locateConfig('client', undefined, { XDG_CONFIG_HOME: xdg, SIMPLE_PROXY_CONFIG: 'env.yaml' }), { path: join(dir, 'env.yaml'), origin: 'env' });
  assert.deepEqual(await locateConfig('client', 'flag.yaml', { SIMPLE_PROXY_CONFIG: 'env.yaml' }), { path: join(dir, 'flag.yaml'), origin: 'flag' });
  await assert.rejects(loadConfig(join(dir, 'missing.yaml'), 'server'), /missing\.yaml: cannot read the config file: no such file/);
});

test('metrics enabled without a port: a warning says there is nothing to scrape and no /health, and how to get them', () => {
  const warning = 'metrics.enabled is true but metrics.port is not set: metrics are served only on the control socket (GET /metrics), with no address for Prometheus to scrape and no /health endpoints; set metrics.port (for example 9090) to serve them';
  assert.ok(parseConfigText('metrics:\n  enabled: true\n', null, 'server').warnings.includes(warning));
  assert.ok(parseConfigText('metrics:\n  enabled: true\n', null, 'client').warnings.includes(warning));
  assert.ok(!parseConfigText('metrics:\n  enabled: true\n  port: 9090\n', null, 'server').warnings.includes(warning));
  assert.ok(!parseConfigText('metrics:\n  enabled: false\n', null, 'server').warnings.includes(warning));
});
