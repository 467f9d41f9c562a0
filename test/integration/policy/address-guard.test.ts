import { test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { hostname, networkInterfaces } from 'node:os';
import { freePort } from '../../helpers/ports.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { exchange, socksConnect } from './policy-fixture.js';

/** Spellings of 127.0.0.1 that a URL parser, resolver or socket library all read as that address. */
const LOOPBACK_FORMS = ['127.0.0.1.', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '%31%32%37.0.0.1', '[::ffff:127.0.0.1]', '[::127.0.0.1]', 'localhost.'];

/** A loopback-only origin that counts the requests and connections that reach it. */
async function inwardOrigin(): Promise<{ port: number; hits: () => number; close(): void }> {
  let hits = 0;
  const server = createServer((_req, res) => res.end('inside'));
  server.on('connection', () => hits++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, hits: () => hits, close: () => server.close() };
}

/** The answer with what differs between any two answers (the Date header) taken out. */
function comparable(reply: Buffer): string {
  return reply.toString('latin1').replace(/\r\nDate: [^\r]*/i, '');
}

/** Every way in for one target written as `host`: plain HTTP, CONNECT, WebSocket upgrade and SOCKS5. */
async function answers(http: number, socks: number, host: string, port: number): Promise<Record<string, string>> {
  const authority = `${host}:${port}`;
  const plain = await exchange(http, '127.0.0.1', `GET http://${authority}/ HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
  const connect = await exchange(http, '127.0.0.1', `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const upgrade = await exchange(http, '127.0.0.1', `GET http://${authority}/ws HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
  const socksReply = await exchange(socks, '127.0.0.1', socksConnect(host.replace(/^\[|\]$/g, ''), port, true));
  return { plain: comparable(plain.reply), connect: comparable(connect.reply), upgrade: comparable(upgrade.reply), socks: socksReply.reply.subarray(0, 4).toString('hex') };
}

test('for an untrusted client, every spelling of a loopback address and every name resolving to one is refused on all fronts before any packet leaves: open and closed ports answer alike', { timeout: 60_000 }, async (t) => {
  const origin = await inwardOrigin();
  t.after(() => origin.close());
  const closed = await freePort();
  const proxy = await startEngine(snapshot(undefined, undefined, { raw: { access_control: { trusted_clients: [], connect_ports: ['1-65535'] } } }));
  t.after(() => proxy.stop());
  // This host's own name resolves to loopback through /etc/hosts on most machines.
  const own = hostname();
  const ownIsLoopback = (await dnsPromises.lookup(own, { all: true }).catch(() => [])).some((a) => a.address === '127.0.0.1');
  for (const host of [...LOOPBACK_FORMS, ...(ownIsLoopback ? [own] : [])]) {
    const open = await answers(proxy.http.port, proxy.socks.port, host, origin.port);
    for (const [front, answer] of Object.entries(open)) {
      if (front === 'socks') assert.equal(answer, '05000502', `${host}: SOCKS5 not allowed by ruleset`);
      else assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n[^]*Proxy-Status: simple-proxy; error=destination_ip_prohibited[^]*loopback or link-local/i, `${host} (${front})`);
    }
    assert.deepEqual(await answers(proxy.http.port, proxy.socks.port, host, closed), open, `${host}: the same answers for a closed port (no port-scan oracle)`);
  }
  if (!ownIsLoopback) t.diagnostic(`${own} does not resolve to 127.0.0.1 here: names resolving inward were not tried`);
  assert.equal(origin.hits(), 0, 'no connection reached the loopback origin');
});

/** This host's first non-loopback IPv4 address: a "public" target that is still this host. */
function outerAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
  return null;
}

/** Makes this process's resolver answer `name` with `answers()` (both the callback and the promise API); other names resolve for real. */
function fakeName(name: string, answers: () => string[]): () => void {
  const realLookup = dns.lookup;
  const realPromise = dnsPromises.lookup;
  const list = (): dns.LookupAddress[] => answers().map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  dns.lookup = ((host: string, options: unknown, callback?: unknown) => {
    const done = (typeof options === 'function' ? options : callback) as (e: Error | null, a: unknown, f?: number) => void;
    if (host !== name) return (realLookup as (...args: unknown[]) => void)(host, options, callback);
    const all = list();
    process.nextTick(() => ((options as { all?: boolean })?.all ? done(null, all) : done(null, all[0].address, all[0].family)));
  }) as typeof dns.lookup;
  dnsPromises.lookup = (async (host: string, options?: { all?: boolean }) => {
    if (host !== name) return (realPromise as (...args: unknown[]) => unknown)(host, options);
    const all = list();
    return options?.all ? all : all[0];
  }) as typeof dnsPromises.lookup;
  syncBuiltinESMExports();
  return () => {
    dns.lookup = realLookup;
    dnsPromises.lookup = realPromise;
    syncBuiltinESMExports();
  };
}

test('DNS rebinding: a name whose answers flip between a public and a loopback address, or mix them, never reaches loopback; the public answer still works; one lookup per request', { timeout: 60_000 }, async (t) => {
  const outer = outerAddress();
  if (!outer) return t.skip('this host has no non-loopback IPv4 address to play the public target');
  let inward = 0;
  let outward = 0;
  const server = createServer((req, res) => {
    if (req.socket.localAddress?.replace(/^::ffff:/, '').startsWith('127.')) inward++;
    else outward++;
    // A connection per request: every request is a fresh dial, so a fresh lookup.
    res.setHeader('connection', 'close');
    res.end('hello');
  });
  server.listen(0, '0.0.0.0');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const proxy = await startEngine(snapshot(undefined, undefined, { raw: { access_control: { trusted_clients: [], connect_ports: ['1-65535'] } } }));
  t.after(() => proxy.stop());

  let lookups = 0;
  const restore = fakeName('rebind.test', () => (lookups++ % 2 === 0 ? [outer] : ['127.0.0.1']));
  t.after(restore);
  const statuses: string[] = [];
  for (let i = 0; i < 8; i++) {
    const reply = await exchange(proxy.http.port, '127.0.0.1', `GET http://rebind.test:${port}/ HTTP/1.1\r\nHost: rebind.test:${port}\r\nConnection: close\r\n\r\n`);
    statuses.push(reply.reply.toString('latin1').slice(9, 12));
  }
  assert.equal(inward, 0, 'no request reached the loopback address');
  assert.ok(statuses.includes('200') && statuses.includes('403'), `public answers pass, loopback ones are refused: ${statuses.join(' ')}`);
  assert.equal(lookups, 8, 'one lookup per request: the address checked is the one dialled');
  restore();

  const mixed = fakeName('mixed.test', () => [outer, '127.0.0.1']);
  t.after(mixed);
  const all = await answers(proxy.http.port, proxy.socks.port, 'mixed.test', port);
  for (const front of ['plain', 'connect', 'upgrade']) assert.match(all[front], /^HTTP\/1\.1 403 [^]*mixed\.test \(resolves to 127\.0\.0\.1\) is a loopback or link-local address/, front);
  assert.equal(all.socks, '05000502');
  assert.equal(inward, 0);
  assert.ok(outward > 0);
});
