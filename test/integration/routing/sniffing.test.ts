import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../../src/config/load.js';
import { makeTlsFiles } from '../../helpers/tls-files.js';
import { curl, origin } from '../policy/policy-fixture.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';

test('sniff: true routes CONNECT and SOCKS5 targets given as IP addresses by the TLS SNI or HTTP Host they carry, and records both', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-sniff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = makeTlsFiles(dir, ['sniffed.test', 'blocked.test']);
  const site = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (_req, res) => res.end('tls ok'));
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  t.after(() => site.close());
  const port = (site.address() as { port: number }).port;
  const plain = await origin(10);
  t.after(() => plain.server.close());
  const parsed = parseConfigText(
    `backends:
  - { name: direct, type: direct }
  - { name: other, type: direct }
rules:
  - { name: blocked, match: { domains: [blocked.test] }, action: reject }
  - { name: by-name, match: { domains: [sniffed.test], ip_cidr: ["127.0.0.0/8"] }, backend: other }
  - { name: default, match: { domains: ["*"] }, backend: direct }
`,
    null,
    'server',
  );
  const proxy = await startEngine(snapshot(parsed.backends, parsed.rules, { sniff: true }));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const done = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (proxy.records.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return proxy.records.at(-1)!;
  };

  // curl sends CONNECT 127.0.0.1:port (--connect-to) and the name in its ClientHello.
  const viaConnect = await curl(['--cacert', tls.ca, '-p', '-x', via, '--connect-to', `sniffed.test:${port}:127.0.0.1:${port}`, `https://sniffed.test:${port}/`]);
  assert.equal(viaConnect.stdout, 'tls ok', viaConnect.stderr);
  const first = await done(1);
  assert.deepEqual([first.host, first.sniffedHost, first.rule, first.backend], ['127.0.0.1', 'sniffed.test', 'by-name', 'other'], 'routed by the SNI, the IP kept for ip_cidr and the dial');

  const viaSocks = await curl(['--cacert', tls.ca, '--socks5', `127.0.0.1:${proxy.socks.port}`, '--connect-to', `sniffed.test:${port}:127.0.0.1:${port}`, `https://sniffed.test:${port}/`]);
  assert.equal(viaSocks.stdout, 'tls ok', viaSocks.stderr);
  const second = await done(2);
  assert.deepEqual([second.protocol, second.host, second.sniffedHost, second.rule], ['socks5', '127.0.0.1', 'sniffed.test', 'by-name']);

  const http = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-p', '-x', via, '-H', 'Host: sniffed.test', `http://127.0.0.1:${plain.port}/`]);
  assert.equal(http.stdout, '200');
  const third = await done(3);
  assert.deepEqual([third.sniffedHost, third.rule], ['sniffed.test', 'by-name'], 'the Host of a plain request inside the tunnel');

  // A rule that rejects the sniffed name can only close: success was answered to read the name.
  const blocked = await curl(['--cacert', tls.ca, '-p', '-x', via, '--connect-to', `blocked.test:${port}:127.0.0.1:${port}`, `https://blocked.test:${port}/`]);
  assert.notEqual(blocked.code, 0);
  const fourth = await done(4);
  assert.deepEqual([fourth.sniffedHost, fourth.rule, fourth.error], ['blocked.test', 'blocked', 'rejected']);
});

test('sniff: true on a rule: an IP-literal target that rule takes is routed again by its sniffed name; other targets are not held', { timeout: 60_000 }, async (t) => {
  const plain = await origin(10);
  t.after(() => plain.server.close());
  const parsed = parseConfigText(
    `backends:
  - { name: direct, type: direct }
  - { name: other, type: direct }
rules:
  - { name: by-name, match: { domains: [sniffed.test] }, backend: other }
  - { name: sniff-loopback, match: { ip_cidr: ["127.0.0.0/8"], ports: [${plain.port}] }, sniff: true, backend: direct }
  - { name: default, match: { domains: ["*"] }, backend: direct }
`,
    null,
    'server',
  );
  const proxy = await startEngine(snapshot(parsed.backends, parsed.rules));
  t.after(() => proxy.stop());
  const via = `http://127.0.0.1:${proxy.http.port}`;
  const http = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--socks5', `127.0.0.1:${proxy.socks.port}`, '-H', 'Host: sniffed.test', `http://127.0.0.1:${plain.port}/`]);
  assert.equal(http.stdout, '200');
  const deadline = Date.now() + 10_000;
  while (proxy.records.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([proxy.records[0].sniffedHost, proxy.records[0].rule], ['sniffed.test', 'by-name']);
  const second = await origin(10);
  t.after(() => second.server.close());
  const other = await curl(['-o', '/dev/null', '-w', '%{http_connect}', '-p', '-x', via, `http://127.0.0.1:${second.port}/`]);
  assert.equal(other.stdout, '200');
  while (proxy.records.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([proxy.records[1].sniffedHost, proxy.records[1].rule], [undefined, 'default'], 'a target no sniffing rule takes is routed at once');
});
