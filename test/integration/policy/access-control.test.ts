import { test } from 'node:test';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/run.js';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { makeTlsFiles } from '../../helpers/tls-files.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { curl, exchange, METRICS_ON, origin, scrape, socksConnect } from './policy-fixture.js';

/** A snapshot listening on 127.0.0.1 (HTTP, SOCKS5) and on [::1] (HTTP), with these policy sections. */
function withPolicy(raw: Record<string, unknown>, patch: Partial<ConfigSnapshot> = {}): ConfigSnapshot {
  const base = snapshot(undefined, undefined, { raw, metrics: METRICS_ON, ...patch });
  return { ...base, listeners: [...base.listeners, { kind: 'http', host: '::1', port: 0 }] };
}

test('access_control: whitelist and blacklist (IPv4, IPv6, CIDR), blacklist wins, refused before parsing, hot-reloaded', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const proxy = await startEngine(withPolicy({ access_control: { whitelist: ['127.0.0.0/8'], blacklist: ['127.0.0.2'] } }));
  t.after(() => proxy.stop());
  const v6 = proxy.engine.boundListeners().find((l) => l.host === '::1')!;
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const url = `http://127.0.0.1:${site.port}/`;
  const get = (from: string, proxyUrl = `http://127.0.0.1:${proxy.http.port}`) => curl(['-o', '/dev/null', '-w', '%{http_code}', '--interface', from, '-x', proxyUrl, url]);

  assert.equal((await get('127.0.0.1')).stdout, '200', 'whitelisted');
  const black = await get('127.0.0.2');
  assert.equal(black.stdout, '000', 'blacklisted inside the whitelist: closed without an answer');
  assert.ok([52, 56].includes(black.code), `curl: empty reply or reset, got exit ${black.code}`);
  const v6client = await get('::1', `http://[::1]:${v6.port}`);
  assert.equal(v6client.stdout, '000', '[::1] is not in 127.0.0.0/8');

  // Nothing is parsed: a SOCKS5 greeting from a refused client gets no byte back.
  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksConnect('127.0.0.1', site.port), { localAddress: '127.0.0.2' });
  assert.equal(socks.reply.length, 0);
  assert.ok(socks.closed);
  assert.equal(proxy.records.filter((r) => r.clientAddress !== '127.0.0.1').length, 0, 'no record: refused before any request was read');
  assert.deepEqual(hits.map((h) => [h.scope, h.client, h.protocol]), [['acl', '127.0.0.2', 'http'], ['acl', '::1', 'http'], ['acl', '127.0.0.2', 'socks5']]);
  assert.match(hits[0].reason, /access_control\.blacklist/);
  assert.match(hits[1].reason, /not on access_control\.whitelist/);
  assert.equal((await scrape(proxy.engine)).get('proxy_policy_refusals_total{by="acl"}'), 3, 'each refusal counted');

  await proxy.engine.reload(withPolicy({ access_control: { whitelist: ['::1', '127.0.0.2/32'], blacklist: [] } }));
  assert.equal((await get('127.0.0.2')).stdout, '200', 'allowed after the reload');
  assert.equal((await get('::1', `http://[::1]:${v6.port}`)).stdout, '200');
  assert.equal((await get('127.0.0.1')).stdout, '000', 'no longer whitelisted');
});

test('connection limits: max_connections_per_ip refuses the next connection of that IP only; max_connections_per_backend answers 503 / SOCKS5 0x01', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const base = snapshot(undefined, undefined, { metrics: METRICS_ON });
  const proxy = await startEngine({ ...base, network: { ...base.network, limits: { maxConnections: 100, maxConnectionsPerIp: 2, maxConnectionsPerBackend: 1 } } });
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));

  const hold = async (): Promise<Socket> => {
    const s = connect(proxy.http.port, '127.0.0.1');
    await once(s, 'connect');
    s.write(`CONNECT 127.0.0.1:${site.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await once(s, 'data');
    return s;
  };
  const first = await hold();
  t.after(() => first.destroy());
  // The backend holds one tunnel: the next one through it is refused.
  const second = await exchange(proxy.http.port, '127.0.0.1', `CONNECT 127.0.0.1:${site.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(second.reply.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*max_connections_per_backend \(1\)/);
  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksConnect('127.0.0.1', site.port), { localAddress: '127.0.0.2' });
  assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x01]);

  // Per IP: 127.0.0.1 has its tunnel open; one more connection fits, the third is refused.
  const extra = connect(proxy.http.port, '127.0.0.1');
  await once(extra, 'connect');
  t.after(() => extra.destroy());
  await waitFor('the tunnel and the extra connection counted', async () => ((await proxy.engine.stats()).connectionsActive === 2 ? true : undefined));
  const third = await exchange(proxy.http.port, '127.0.0.1', 'GET / HTTP/1.1\r\n\r\n');
  assert.match(third.reply.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable/);
  const otherIp = await exchange(proxy.http.port, '127.0.0.1', `GET http://127.0.0.1:${site.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { localAddress: '127.0.0.3' });
  assert.match(otherIp.reply.toString('latin1'), /^HTTP\/1\.1 503 [^]*max_connections_per_backend/, 'another IP passes the per-IP limit (and meets the backend limit)');
  assert.deepEqual(hits.map((h) => [h.scope, h.client]).slice(0, 3), [['connections', '127.0.0.1'], ['connections', '127.0.0.2'], ['connections', '127.0.0.1']]);
  assert.match(hits[2].reason, /max_connections_per_ip \(2\)/);
  assert.equal(hits.length, 4);
  const metrics = await scrape(proxy.engine);
  assert.equal(metrics.get('proxy_policy_refusals_total{by="connections"}'), 4, 'per backend (CONNECT, SOCKS5, plain HTTP) and per IP, each counted');
  assert.equal(metrics.get('proxy_rate_limit_exceeded_total{by="ip"}'), undefined, 'not a rate limit');
});

test('access_control on the TLS proxy listener: a blacklisted client is closed before the TLS handshake, an allowed one gets through', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const dir = mkdtempSync(join(tmpdir(), 'sp-acl-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = makeTlsFiles(dir);
  const base = snapshot(undefined, undefined, { raw: { access_control: { blacklist: ['127.0.0.2'] } } });
  const proxy = await startEngine({ ...base, listeners: [{ kind: 'http', host: '127.0.0.1', port: 0, tls: { certFile: tls.cert, keyFile: tls.key } }, base.listeners[1]] });
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const via = ['--proxy-cacert', tls.ca, '-x', `https://127.0.0.1:${proxy.http.port}`, `http://127.0.0.1:${site.port}/`];

  // Refused at accept, before TLS: a client that sends nothing is closed at once with no byte, while an allowed one is left waiting for its ClientHello.
  const silent = (from: string) => exchange(proxy.http.port, '127.0.0.1', Buffer.alloc(0), { localAddress: from, timeoutMs: 500 });
  assert.deepEqual(await silent('127.0.0.2'), { reply: Buffer.alloc(0), closed: true });
  assert.deepEqual(await silent('127.0.0.1'), { reply: Buffer.alloc(0), closed: false });
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.2', ...via])).stdout, '000');
  assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', '--interface', '127.0.0.1', ...via])).stdout, '200');
  assert.deepEqual(hits.map((h) => [h.scope, h.client]), [['acl', '127.0.0.2'], ['acl', '127.0.0.2']]);
});
