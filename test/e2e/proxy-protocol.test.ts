import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { background, okOrigin, sandbox, type Sandbox } from './cli-harness.js';
import { haproxyUnavailable, startHaproxy } from '../helpers/haproxy.js';
import { freePort } from '../helpers/ports.js';
import { makeTlsFiles } from '../helpers/tls-files.js';

/*
 * PROXY protocol on every listener: curl --haproxy-protocol (v1) straight to the proxy, and a real
 * HAProxy with send-proxy-v2 in front of it. The balancer is 127.0.0.1; clients take other
 * loopback addresses (curl --interface), so what the proxy reports shows whose address it used.
 */

const BALANCER = '127.0.0.1';

/** JSON access-log lines with the client's address, in access.log of the sandbox. */
const ACCESS_LOG = `access_log:
  enabled: true
  format: json
  output: file
  file: access.log
  fields: [client_ip, path, status]
`;

function config(healthPort: number): string {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 1
  proxy_protocol: { enabled: true, trusted: ["${BALANCER}/32"] }
access_control:
  trusted_clients: ["127.0.0.0/8"]
  blacklist: ["127.0.0.66"]
rate_limiting:
  enabled: true
  per_ip: { requests_per_second: 0.1, burst: 2 }
metrics:
  enabled: true
  port: ${healthPort}
${ACCESS_LOG}`;
}

/** curl from a given loopback address; the status code, or curl's exit code when no answer came. */
async function curlFrom(source: string, args: string[]): Promise<string> {
  const result = await background('curl', ['-s', '-o', '/dev/null', '--max-time', '15', '-w', '%{http_code}', '--interface', source, ...args]).done;
  return result.stdout === '000' ? `curl exit ${result.code}` : result.stdout;
}

async function waitForText(file: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${file} never matched ${pattern}: ${existsSync(file) ? readFileSync(file, 'utf8') : '(no file)'}`);
}

test('PROXY protocol: v1 from curl and v2 from HAProxy carry the client address to the access log, IP lists and per-IP limits; untrusted or missing headers are refused', { skip: haproxyUnavailable() ?? false, timeout: 120_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const health = await freePort();
  const box: Sandbox = sandbox(config(health));
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const status = await box.status();
  const [http, socks] = ['http', 'socks5'].map((kind) => status.listeners.find((l) => l.kind === kind)!.port);
  const target = (path: string) => `http://127.0.0.1:${origin.port}${path}`;
  const log = join(box.dir, 'access.log');

  // v1 from the trusted balancer address: curl writes its own address in the header.
  assert.equal(await curlFrom(BALANCER, ['--haproxy-protocol', '-x', `http://127.0.0.1:${http}`, target('/v1')]), '200');
  await waitForText(log, /"client_ip":"127\.0\.0\.1","path":"\/v1","status":200/);

  // v2 through HAProxy on both proxy listeners and the health listener.
  const viaHttp = await startHaproxy([{ port: http, healthPort: health }], { sendProxy: 'v2' });
  t.after(() => viaHttp.stop());
  const viaSocks = await startHaproxy([{ port: socks }], { sendProxy: 'v2' });
  t.after(() => viaSocks.stop());
  assert.equal(await curlFrom('127.0.0.21', ['-x', `http://127.0.0.1:${viaHttp.port}`, target('/v2-http')]), '200');
  assert.equal(await curlFrom('127.0.0.22', ['--socks5-hostname', `127.0.0.1:${viaSocks.port}`, target('/v2-socks')]), '200');
  const lines = await waitForText(log, /"client_ip":"127\.0\.0\.22"/);
  assert.match(lines, /"client_ip":"127\.0\.0\.21","path":"\/v2-http","status":200/);

  // The IP lists and the per-IP limit act on the client behind the balancer.
  assert.match(await curlFrom('127.0.0.66', ['-x', `http://127.0.0.1:${viaHttp.port}`, target('/blacklisted')]), /^curl exit (52|56)$/);
  const limited = [];
  for (let i = 0; i < 3; i++) limited.push(await curlFrom('127.0.0.31', ['-x', `http://127.0.0.1:${viaHttp.port}`, target(`/limited${i}`)]));
  assert.deepEqual(limited, ['200', '200', '429']);
  assert.equal(await curlFrom('127.0.0.32', ['-x', `http://127.0.0.1:${viaHttp.port}`, target('/other-client')]), '200', 'another client has its own bucket');

  // An untrusted peer's header is never believed: the proxy reads it as a malformed request.
  assert.equal(await curlFrom('127.0.0.41', ['--haproxy-protocol', '-x', `http://127.0.0.1:${http}`, target('/spoofed')]), '400');
  // The trusted balancer without a header: closed, with a line in the daemon log saying why.
  assert.match(await curlFrom(BALANCER, ['-x', `http://127.0.0.1:${http}`, target('/no-header')]), /^curl exit (52|56)$/);
  await waitForText(join(box.dir, 'state', 'server', 'daemon.log'), /PROXY[^\n]*127\.0\.0\.1[^\n]*no PROXY protocol header/);
  assert.doesNotMatch(readFileSync(log, 'utf8'), /spoofed|no-header/);
});

test('PROXY protocol on the TLS listener: HAProxy passes TLS through with send-proxy-v2; the client behind it is the one logged', { skip: haproxyUnavailable() ?? false, timeout: 90_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
  tls: { cert_file: tls/server.crt, key_file: tls/server.key }
  proxy_protocol: { enabled: true, trusted: ["${BALANCER}"] }
access_control:
  trusted_clients: ["127.0.0.0/8"]
${ACCESS_LOG}`);
  t.after(() => box.cleanup());
  mkdirSync(join(box.dir, 'tls'));
  const tls = makeTlsFiles(join(box.dir, 'tls'));
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const http = (await box.status()).listeners.find((l) => l.kind === 'http')!.port;
  const balancer = await startHaproxy([{ port: http }], { sendProxy: 'v2' });
  t.after(() => balancer.stop());
  assert.equal(await curlFrom('127.0.0.23', ['--proxy', `https://127.0.0.1:${balancer.port}`, '--proxy-cacert', tls.ca, `http://127.0.0.1:${origin.port}/over-tls`]), '200');
  assert.equal(await curlFrom('127.0.0.24', ['--proxy', `https://127.0.0.1:${balancer.port}`, '--proxy-cacert', tls.ca, `http://127.0.0.1:${origin.port}/over-tls-again`]), '200');
  const lines = await waitForText(join(box.dir, 'access.log'), /over-tls-again/);
  assert.match(lines, /"client_ip":"127\.0\.0\.23","path":"\/over-tls","status":200/);
  assert.match(lines, /"client_ip":"127\.0\.0\.24","path":"\/over-tls-again","status":200/);
});
