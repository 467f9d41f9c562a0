import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { WebSocket, WebSocketServer } from 'ws';
import { toHar } from '../../../src/debug/har.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { startIntercepting, type Intercepting } from './mitm-fixture.js';
import { authSnapshot } from '../auth/auth-fixture.js';
import { hashPassword } from '../../../src/auth/native-provider.js';
import { startOrigin, type Origin } from '../../helpers/https-origin.js';
import { run, waitFor } from '../../helpers/run.js';
import { snapshot } from '../proxy/engine-fixture.js';

const BIG = Buffer.alloc(100 * 1024, 0);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7919) % 251;
const PAGE = '<!doctype html><title>origin</title><p>hello</p>\n';

/** An origin answering /page (HTML), /big (100 KiB binary) and /upload (a digest of the body, the cookies and the authority it got). */
async function origin(dir: string): Promise<Origin> {
  const started = await startOrigin(dir, (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/page')) {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('set-cookie', ['seen=1; Path=/', 'theme=dark; Path=/']);
      return void res.end(PAGE);
    }
    if (url === '/big') {
      res.setHeader('content-type', 'application/octet-stream');
      return void res.end(BIG);
    }
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ length, sha256: hash.digest('hex'), cookie: req.headers.cookie ?? null, authority: req.headers[':authority'] ?? req.headers.host, version: req.httpVersion }));
    });
  });
  return started;
}

/** A fresh directory and origin for one test, removed and closed after it. */
async function originFor(t: TestContext): Promise<{ dir: string; site: Origin }> {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-origin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const site = await origin(dir);
  t.after(() => site.server.close());
  return { dir, site };
}

/** An intercepting engine for one test, stopped after it. */
async function intercepting(t: TestContext, ...args: Parameters<typeof startIntercepting>): Promise<Intercepting> {
  const mitm = await startIntercepting(...args);
  t.after(() => mitm.close());
  return mitm;
}

const decrypted = (records: ConnectionRecord[], path: string): ConnectionRecord[] => records.filter((r) => r.protocol === 'http' && r.path === path && r.tls?.decrypted === true);

test('curl over HTTP/1.1 and HTTP/2 trusts the CA and its requests are decrypted: bodies above 64 KiB, cookies and the authority cross, the HAR is valid with the bodies the origin sent', { timeout: 120_000 }, async (t) => {
  const { dir, site } = await originFor(t);
  const mitm = await intercepting(t, site.files.ca);
  const upload = join(dir, 'upload.bin');
  writeFileSync(upload, BIG);
  const base = `https://localhost:${site.port}`;
  for (const version of ['--http1.1', '--http2']) {
    const page = await run('curl', ['-sS', version, '--proxy', mitm.proxy, '--cacert', mitm.ca, '-H', 'authorization: Bearer s3cret-token', `${base}/page?v=${version}`]);
    assert.equal(page.code, 0, page.stderr);
    assert.equal(page.stdout, PAGE);
    const posted = await run('curl', ['-sS', version, '--proxy', mitm.proxy, '--cacert', mitm.ca, '-b', 'a=1; b=2', '--data-binary', `@${upload}`, '-H', 'content-type: application/octet-stream', `${base}/upload`]);
    assert.equal(posted.code, 0, posted.stderr);
    const seen = JSON.parse(posted.stdout) as { length: number; sha256: string; cookie: string; authority: string };
    assert.equal(seen.length, BIG.length, `${version}: the whole request body reached the origin`);
    assert.equal(seen.sha256, createHash('sha256').update(BIG).digest('hex'));
    assert.equal(seen.cookie, 'a=1; b=2', `${version}: cookies reach the origin as one field`);
    assert.equal(seen.authority, `localhost:${site.port}`);
    const big = await run('curl', ['-sS', version, '--proxy', mitm.proxy, '--cacert', mitm.ca, '-o', join(dir, 'big.out'), '-w', '%{size_download}', `${base}/big`]);
    assert.equal(big.stdout, String(BIG.length));
  }
  const records = await waitFor('the decrypted records', () => {
    const pages = decrypted(mitm.run.records, '/page?v=--http2');
    const tunnelsClosed = mitm.run.records.filter((r) => r.protocol === 'connect').length === 6;
    return pages.length === 1 && decrypted(mitm.run.records, '/big').length === 2 && tunnelsClosed ? mitm.run.records : undefined;
  });
  assert.deepEqual(decrypted(records, '/page?v=--http1.1')[0].tls, { decrypted: true, sni: 'localhost', alpn: 'http/1.1' });
  assert.deepEqual(decrypted(records, '/page?v=--http2')[0].tls, { decrypted: true, sni: 'localhost', alpn: 'h2' });
  const tunnels = records.filter((r) => r.protocol === 'connect');
  assert.equal(tunnels.length, 6, 'each curl opened one tunnel');
  assert.ok(tunnels.every((r) => r.tls?.decrypted === true && r.status === 200));
  assert.ok(tunnels.every((r) => typeof r.tlsMs === 'number'), 'the client handshake with the front is timed');
  assert.ok(records.some((r) => r.tls?.decrypted && r.protocol === 'http' && typeof r.waitMs === 'number' && typeof r.receiveMs === 'number'), 'wait and receive are timed');

  const kept = await mitm.debug.list(100);
  const har = toHar(kept, 'test');
  const { default: validator } = await import('har-validator');
  await assert.doesNotReject(validator.har(har), 'valid HAR 1.2');
  const pageEntry = har.log.entries.find((e) => e.request.url === `${base}/page?v=--http2`);
  assert.ok(pageEntry, 'the decrypted request has its https:// URL');
  assert.equal(pageEntry.request.httpVersion, 'HTTP/2.0');
  assert.equal(pageEntry.response.content.text, PAGE, 'the body the origin sent, as text');
  assert.ok(pageEntry.timings.wait >= 0 && pageEntry.timings.receive >= 0);
  // DNS applies only when the request went out on a connection opened for it (not a reused one).
  assert.equal(pageEntry.timings.dns, decrypted(records, '/page?v=--http2')[0].dnsMs ?? -1);
  const cookieHeader = pageEntry.response.headers.find((h) => h.name.toLowerCase() === 'set-cookie');
  assert.equal(cookieHeader?.value, '***', 'set-cookie stays masked in HAR');
  assert.equal(pageEntry.request.headers.find((h) => h.name.toLowerCase() === 'authorization')?.value, 'Bearer ***', 'a decrypted Authorization stays masked in HAR');
  assert.ok(!JSON.stringify(har).includes('s3cret-token'), 'the secret is not in the HAR');
  const log = readFileSync(join(mitm.dir, 'traffic.log'), 'utf8');
  assert.ok(!log.includes('s3cret-token'), log.split('\n').filter((l) => l.includes('s3cret')).join('\n'));
  const bigEntry = har.log.entries.find((e) => e.request.url === `${base}/big`);
  assert.equal(bigEntry?.response.content.encoding, 'base64');
  assert.ok(Buffer.from(bigEntry?.response.content.text ?? '', 'base64').equals(BIG), 'binary bodies are base64 in HAR');
  const tunnelEntry = har.log.entries.find((e) => e.request.method === 'CONNECT');
  assert.equal(tunnelEntry?._tunnel?.decrypted, true);
  assert.equal(tunnelEntry?._tunnel?.sni, 'localhost');
  assert.ok((tunnelEntry?.timings.ssl ?? -1) >= 0, 'a tunnel entry carries its TLS handshake time');
  const stats = await mitm.debug.summary();
  assert.equal(stats.mitm.intercepted, 6);
  assert.equal(stats.mitm.leaves?.minted, 1, 'one leaf for the host, reused by every later tunnel');
});

test('Python requests with verify= and Node with NODE_EXTRA_CA_CERTS see the origin through the interception', { timeout: 120_000 }, async (t) => {
  const { site } = await originFor(t);
  const mitm = await intercepting(t, site.files.ca);
  const url = `https://localhost:${site.port}/page?client=`;
  const python = await run('/usr/bin/python3', ['-c', `import requests,sys; r = requests.get(sys.argv[1], proxies={'https': sys.argv[2]}, verify=sys.argv[3]); print(r.status_code); print(r.text, end='')`, `${url}python`, mitm.proxy, mitm.ca]);
  assert.equal(python.code, 0, python.stderr);
  assert.equal(python.stdout, `200\n${PAGE}`);
  const script = `import { ProxyAgent, fetch } from 'undici'; const r = await fetch(process.argv[1], { dispatcher: new ProxyAgent(process.argv[2]) }); process.stdout.write(r.status + '\\n' + await r.text());`;
  const node = await run(process.execPath, ['--input-type=module', '-e', script, `${url}node`, mitm.proxy], { NODE_EXTRA_CA_CERTS: mitm.ca });
  assert.equal(node.code, 0, node.stderr);
  assert.equal(node.stdout, `200\n${PAGE}`);
  const untrusting = await run(process.execPath, ['--input-type=module', '-e', script, `${url}untrusting`, mitm.proxy]);
  assert.notEqual(untrusting.code, 0, 'without the CA, Node refuses the intercepted host');
  await waitFor('both decrypted requests', () => (decrypted(mitm.run.records, '/page?client=python').length === 1 && decrypted(mitm.run.records, '/page?client=node').length === 1 ? true : undefined));
});

test('a client that does not trust the CA fails its handshake; after passthrough_after_failures refusals the host passes through and the same client works', { timeout: 120_000 }, async (t) => {
  const { site } = await originFor(t);
  const mitm = await intercepting(t, site.files.ca, { passthroughAfterFailures: 2 });
  // This client trusts the origin's own CA, not ours: a pinning app in miniature.
  const pinned = (): Promise<{ code: number; stdout: string; stderr: string }> => run('curl', ['-sS', '--proxy', mitm.proxy, '--cacert', site.files.ca, `https://localhost:${site.port}/page`]);
  for (let i = 0; i < 2; i++) {
    const refused = await pinned();
    assert.notEqual(refused.code, 0, `attempt ${i + 1} meets our certificate and refuses it`);
  }
  await waitFor('two refusals counted', async () => ((await mitm.debug.summary()).mitm.clientRejections === 2 ? true : undefined));
  const works = await pinned();
  assert.equal(works.code, 0, works.stderr);
  assert.equal(works.stdout, PAGE, 'passed through end to end, the client talks to the origin itself');
  const stats = await mitm.debug.summary();
  assert.deepEqual(stats.mitm.passthroughHosts, ['localhost']);
  assert.ok(stats.mitm.passedThrough >= 1);
  assert.ok(mitm.warnings.some((w) => /passing localhost through untouched/.test(w)), mitm.warnings.join('\n'));
  const last = await waitFor('the passed-through tunnel', () => mitm.run.records.filter((r) => r.protocol === 'connect').at(2));
  assert.notEqual(last.tls?.decrypted, true, 'relayed as it came');
  assert.equal(last.error, undefined);
});

test('an origin whose certificate does not verify: the client gets a 502 naming the reason', { timeout: 60_000 }, async (t) => {
  const { site } = await originFor(t);
  // No upstream_ca_file: the origin's CA is in no store the proxy trusts.
  const mitm = await intercepting(t, undefined);
  const answer = await run('curl', ['-sS', '--proxy', mitm.proxy, '--cacert', mitm.ca, '-D', '-', `https://localhost:${site.port}/page`]);
  assert.equal(answer.code, 0, answer.stderr);
  assert.match(answer.stdout, /\r\nHTTP\/2 502 \r\n/);
  assert.match(answer.stdout, /proxy-status: simple-proxy; error=tls_certificate_error/);
  assert.match(answer.stdout, /the origin's TLS certificate is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\)/);
  const record = await waitFor('the refused request', () => decrypted(mitm.run.records, '/page')[0]);
  assert.equal(record.status, 502);
  assert.equal(record.error, 'tls-certificate');
});

test('SOCKS5 to an IP address takes the host from SNI, and a WebSocket over TLS is relayed and recorded as an upgrade', { timeout: 60_000 }, async (t) => {
  const { site } = await originFor(t);
  const sockets = new WebSocketServer({ server: site.server as unknown as import('node:http').Server });
  sockets.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo ${String(data)}`)));
  t.after(() => sockets.close());
  const mitm = await startIntercepting(site.files.ca);
  t.after(() => mitm.close());
  const socks = `127.0.0.1:${mitm.run.socks.port}`;
  const viaIp = await run('curl', ['-sS', '--socks5', socks, '--resolve', `localhost:${site.port}:127.0.0.1`, '--cacert', mitm.ca, `https://localhost:${site.port}/page?socks`]);
  assert.equal(viaIp.code, 0, viaIp.stderr);
  assert.equal(viaIp.stdout, PAGE);
  const tunnel = await waitFor('the SOCKS5 tunnel', () => mitm.run.records.find((r) => r.protocol === 'socks5'));
  assert.equal(tunnel.host, '127.0.0.1', 'the client sent an IP');
  assert.equal(tunnel.tls?.sni, 'localhost');
  const request = decrypted(mitm.run.records, '/page?socks')[0];
  assert.equal(request.host, 'localhost', 'the decrypted request names the host from SNI');

  const ws = new WebSocket(`wss://localhost:${site.port}/chat`, { agent: new SocksProxyAgent(`socks5h://${socks}`), ca: readFileSync(mitm.ca) });
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const reply = once(ws, 'message');
  ws.send('hi');
  assert.equal(String((await reply)[0]), 'echo hi');
  ws.close();
  const upgrade = await waitFor('the upgrade record', () => mitm.run.records.find((r) => r.protocol === 'upgrade'));
  assert.equal(upgrade.status, 101);
  assert.equal(upgrade.path, '/chat');
  assert.equal(upgrade.tls?.decrypted, true);
});

test('with authentication on, the decrypted requests are the tunnel\'s user: no Proxy-Authorization inside, the user in every record', { timeout: 60_000 }, async (t) => {
  const { site } = await originFor(t);
  const bobHash = await hashPassword('bob-pw');
  const auth = { mode: 'native', native: { users: [{ username: 'bob', password_hash: bobHash, groups: ['work'] }], acl: [{ group: 'work', backends: ['*'] }] } };
  const mitm = await intercepting(t, site.files.ca, {}, authSnapshot(auth));
  const url = `https://localhost:${site.port}/page?user`;
  const anonymous = await run('curl', ['-sS', '--proxy', mitm.proxy, '--cacert', mitm.ca, url]);
  assert.notEqual(anonymous.code, 0, 'the CONNECT itself needs credentials');
  assert.match(anonymous.stderr, /407/);
  const bob = await run('curl', ['-sS', '--proxy', mitm.proxy, '--proxy-user', 'bob:bob-pw', '--cacert', mitm.ca, url]);
  assert.equal(bob.code, 0, bob.stderr);
  assert.equal(bob.stdout, PAGE);
  const request = await waitFor('the decrypted request', () => decrypted(mitm.run.records, '/page?user')[0]);
  assert.equal(request.user, 'bob');
  assert.equal(request.status, 200);
});

test('decrypted requests pass the same limits as plain HTTP: a per-IP rate limit refuses the request beyond the burst inside the tunnel with a 429', { timeout: 60_000 }, async (t) => {
  const { site } = await originFor(t);
  const mitm = await intercepting(t, site.files.ca, {}, snapshot(undefined, undefined, { raw: { rate_limiting: { enabled: true, per_ip: { requests_per_second: 0.1, burst: 3 } } } }));
  const base = `https://localhost:${site.port}`;
  // One tunnel (its CONNECT takes the first token), then three requests inside it.
  const answered = await run('curl', ['-sS', '--proxy', mitm.proxy, '--cacert', mitm.ca, '-w', '%{http_code}\n', ...[1, 2, 3].flatMap((n) => ['-o', '/dev/null', `${base}/page?n=${n}`])]);
  assert.equal(answered.code, 0, answered.stderr);
  assert.deepEqual(answered.stdout.trim().split('\n'), ['200', '200', '429'], 'the third decrypted request is beyond the burst');
  const refused = await waitFor('the refused request', () => decrypted(mitm.run.records, '/page?n=3')[0]);
  assert.equal(refused.status, 429);
});
