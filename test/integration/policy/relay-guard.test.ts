import { test } from 'node:test';
import dns from 'node:dns';
import dnsPromises, { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { hostname } from 'node:os';
import assert from 'node:assert/strict';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import { openRelayProblem } from '../../../src/policy/open-relay.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { curl, exchange, origin, socksConnect } from './policy-fixture.js';

test('open-relay guard: a non-loopback listener with no auth and no whitelist needs access_control.allow_open_relay', () => {
  const exposed = (raw: Record<string, unknown>, host = '0.0.0.0'): ConfigSnapshot => {
    const base = snapshot(undefined, undefined, { raw });
    return { ...base, listeners: base.listeners.map((l) => ({ ...l, host })) };
  };
  assert.match(openRelayProblem(exposed({})) ?? '', /refusing to start an open proxy: server\.bind_address 0\.0\.0\.0 .*set access_control\.allow_open_relay: true/);
  assert.match(openRelayProblem(exposed({}, '::')) ?? '', /bind_address ::/);
  assert.equal(openRelayProblem(exposed({}, '127.0.0.1')), null, 'loopback only');
  assert.equal(openRelayProblem(exposed({}, '::1')), null);
  assert.equal(openRelayProblem(exposed({ access_control: { whitelist: ['10.0.0.0/8'] } })), null, 'a whitelist');
  assert.equal(openRelayProblem(exposed({ access_control: { allow_open_relay: true } })), null, 'said so explicitly');
  assert.equal(openRelayProblem(exposed({ server: { auth: { mode: 'native' } } })), null, 'clients authenticate');
});

test('for untrusted clients: CONNECT only to connect_ports, others only to safe_ports, no loopback or link-local targets (by address, name or resolution)', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  // With no trusted clients, this loopback test client is treated like a remote one.
  const proxy = await startEngine(snapshot(undefined, undefined, { raw: { access_control: { trusted_clients: [] } } }));
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const connect = async (target: string): Promise<string> => (await exchange(proxy.http.port, '127.0.0.1', `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)).reply.toString('latin1');

  assert.match(await connect('mail.example.com:25'), /^HTTP\/1\.1 403 Forbidden\r\n[^]*port 25 is not in access_control\.connect_ports/);
  assert.match(await connect(`127.0.0.1:${site.port}`), /^HTTP\/1\.1 403 [^]*not in access_control\.connect_ports/, 'CONNECT to a high port: Squid refuses it too');
  assert.match(await connect('127.0.0.1:443'), /^HTTP\/1\.1 403 [^]*127\.0\.0\.1 is a loopback or link-local address/);
  assert.match(await connect('169.254.169.254:443'), /^HTTP\/1\.1 403 [^]*link-local/);
  assert.match(await connect('[fe80::1]:443'), /^HTTP\/1\.1 403 [^]*link-local/);
  assert.match(await connect('localhost:443'), /^HTTP\/1\.1 403 /);

  // Plain HTTP: safe ports allow the high port, but the target is loopback — by address and by resolution.
  const plain = await curl(['-i', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.match(plain.stdout, /^HTTP\/1\.1 403 [^]*loopback or link-local/);
  const byName = await curl(['-i', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://localhost.:${site.port}/`]);
  assert.match(byName.stdout, /^HTTP\/1\.1 403 [^]*loopback or link-local/, 'localhost, also with the root dot');
  // This host's own name resolves to loopback on most machines (/etc/hosts): then the resolution is what refuses.
  const own = hostname();
  const ownIsLoopback = (await lookup(own, { all: true }).catch(() => [])).some((a) => a.address === '127.0.0.1');
  if (ownIsLoopback) {
    const resolved = await curl(['-i', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://${own}:${site.port}/`]);
    assert.match(resolved.stdout, /^HTTP\/1\.1 403 [^]*loopback or link-local/, `${own} resolves to loopback`);
    const socksResolved = await exchange(proxy.socks.port, '127.0.0.1', socksConnect(own, site.port));
    assert.deepEqual([...socksResolved.reply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x02], 'SOCKS5: the connected peer address is checked');
  } else {
    t.diagnostic(`${own} does not resolve to 127.0.0.1 here: the by-resolution checks were not run`);
  }
  const badPort = await curl(['-i', '-x', `http://127.0.0.1:${proxy.http.port}`, 'http://example.com:25/']);
  assert.match(badPort.stdout, /^HTTP\/1\.1 403 [^]*port 25 is not in access_control\.safe_ports/);

  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksConnect('169.254.169.254', 80));
  assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x02]);

  const scopes = hits.map((h) => h.scope);
  assert.deepEqual(scopes.slice(0, 7), ['port', 'port', 'private-target', 'private-target', 'private-target', 'private-target', 'private-target']);
  assert.equal(scopes.filter((s) => s === 'port').length, 3);
  assert.equal(scopes.length, ownIsLoopback ? 12 : 10);
});

test('trusted (loopback) clients and allow_private_targets: the guard stays out of the way', { timeout: 30_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const trusted = await startEngine(snapshot());
  t.after(() => trusted.stop());
  const open = await startEngine(snapshot(undefined, undefined, { raw: { access_control: { trusted_clients: [], connect_ports: ['1-65535'], allow_private_targets: true } } }));
  t.after(() => open.stop());
  for (const proxy of [trusted, open]) {
    const tunnel = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--proxytunnel', '-x', `http://127.0.0.1:${proxy.http.port}`, `http://127.0.0.1:${site.port}/`]);
    assert.equal(tunnel.stdout, '200');
  }
});

/** Counts this process's host-resolver lookups by name (callback and promise API alike), still resolving them for real. */
function countLookups(): { names: string[]; restore(): void } {
  const names: string[] = [];
  const real = dns.lookup;
  const realPromise = dnsPromises.lookup;
  dns.lookup = ((host: string, ...rest: unknown[]) => {
    names.push(host);
    return (real as (...args: unknown[]) => unknown)(host, ...rest);
  }) as typeof dns.lookup;
  dnsPromises.lookup = ((host: string, ...rest: unknown[]) => {
    names.push(host);
    return (realPromise as (...args: unknown[]) => unknown)(host, ...rest);
  }) as typeof dnsPromises.lookup;
  syncBuiltinESMExports();
  return {
    names,
    restore: () => {
      dns.lookup = real;
      dnsPromises.lookup = realPromise;
      syncBuiltinESMExports();
    },
  };
}

test('for untrusted clients, a name routed to an upstream proxy is never resolved on this host (no DNS leak); a direct one still is', { timeout: 30_000 }, async (t) => {
  // An upstream that resolves nothing itself: it answers every request and tunnel on its own.
  const upstream = createServer((req, res) => res.end(`upstream saw ${req.url}`));
  upstream.on('connect', (_req, socket) => {
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.once('data', () => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.after(() => upstream.close());
  // This host's own name resolves to loopback on most machines: routed to the upstream, that must not matter.
  const own = hostname();
  const ownIsLoopback = (await lookup(own, { all: true }).catch(() => [])).some((a) => a.address === '127.0.0.1');
  const config = snapshot(
    [
      { name: 'direct', type: 'direct' },
      { name: 'up', type: 'http', host: '127.0.0.1', port: (upstream.address() as { port: number }).port },
    ],
    [
      { name: 'far', domains: ['*.upstream.test', own], backends: [{ name: 'up', weight: 1 }] },
      { name: 'default', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] },
    ],
    { raw: { access_control: { trusted_clients: [] } } },
  );
  const proxy = await startEngine(config);
  t.after(() => proxy.stop());
  const lookups = countLookups();
  t.after(() => lookups.restore());
  const via = ['-x', `http://127.0.0.1:${proxy.http.port}`];

  const plain = await curl(['-i', ...via, 'http://only.upstream.test/page']);
  assert.match(plain.stdout, /^HTTP\/1\.1 200 [^]*upstream saw http:\/\/only\.upstream\.test(:80)?\/page/);
  const tunnel = await exchange(proxy.http.port, '127.0.0.1', 'CONNECT tunnel.upstream.test:443 HTTP/1.1\r\nHost: tunnel.upstream.test:443\r\n\r\n');
  assert.match(tunnel.reply.toString('latin1'), /^HTTP\/1\.1 200 /);
  const socks = await exchange(proxy.socks.port, '127.0.0.1', socksConnect('socks.upstream.test', 443));
  assert.deepEqual([...socks.reply.subarray(0, 4)], [0x05, 0x00, 0x05, 0x00]);
  const upgrade = await exchange(proxy.http.port, '127.0.0.1', 'GET http://ws.upstream.test/chat HTTP/1.1\r\nHost: ws.upstream.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  assert.match(upgrade.reply.toString('latin1'), /^HTTP\/1\.1 101 /);
  if (ownIsLoopback) {
    const byOwnName = await curl(['-i', ...via, `http://${own}/`]);
    assert.match(byOwnName.stdout, /^HTTP\/1\.1 200 [^]*upstream saw/, `${own} resolves to loopback here, but the upstream resolves it`);
  } else {
    t.diagnostic(`${own} does not resolve to 127.0.0.1 here: the by-name upstream request was not run`);
  }
  assert.deepEqual(lookups.names.filter((n) => n.endsWith('.upstream.test') || n === own), [], 'no host lookup of a name routed to the upstream');

  // A direct backend resolves on this host, once: the addresses it dials are the ones checked.
  await curl(['-o', '/dev/null', ...via, 'http://direct-name.invalid/']);
  assert.deepEqual(lookups.names, ['direct-name.invalid'], 'one lookup, no second one to check the name');
});
