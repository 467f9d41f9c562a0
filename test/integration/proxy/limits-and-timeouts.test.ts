import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, Socket } from 'node:net';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { SocksClient } from 'socks';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { METRICS_ON, scrape } from '../policy/policy-fixture.js';
import { startEngine, snapshot } from './engine-fixture.js';
import { connectTunnel } from './raw-peers.js';
import { waitFor } from '../../helpers/run.js';

/** A loopback echo server for the test's life; its port. */
async function echoServer(t: TestContext): Promise<number> {
  const echo = createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => echo.close());
  return (echo.address() as { port: number }).port;
}

/** The engine fixture's snapshot with `network.keepalive` set. */
function withKeepalive(enabled: boolean, intervalMs: number): ConfigSnapshot {
  const base = snapshot();
  return { ...base, network: { ...base.network, keepalive: { ...base.network.keepalive, enabled, intervalMs } } };
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

test('network.limits.max_connections: the connection over the limit gets 503, is counted, and the counter stays right', async (t) => {
  const base = snapshot(undefined, undefined, { metrics: METRICS_ON });
  const proxy = await startEngine({ ...base, network: { ...base.network, limits: { ...base.network.limits, maxConnections: 2 } } });
  t.after(() => proxy.stop());
  const held = [await open(proxy.http.port), await open(proxy.http.port)];
  t.after(() => held.forEach((s) => s.destroy()));
  await waitFor('both held connections counted', async () => ((await proxy.engine.stats()).connectionsActive === 2 ? true : undefined));
  const third = await open(proxy.http.port);
  let answer = '';
  third.on('data', (c) => (answer += c.toString('latin1')));
  await once(third, 'close');
  assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*too many connections/);
  assert.equal((await proxy.engine.stats()).connectionsActive, 2);
  assert.equal((await scrape(proxy.engine)).get('proxy_policy_refusals_total{by="connections"}'), 1);
  held[0].destroy();
  await waitFor('the freed slot', async () => ((await proxy.engine.stats()).connectionsActive === 1 ? true : undefined));
  const fourth = await open(proxy.http.port);
  fourth.write('GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n');
  const [reply] = (await once(fourth, 'data')) as [Buffer];
  assert.match(reply.toString('latin1'), /^HTTP\/1\.1 502 /, 'a freed slot serves again');
  fourth.destroy();
});

test('SOCKS5 over max_connections and max_connections_per_ip: a real client reads reply 0x02; a silent one is dropped in bounded time', { timeout: 30_000 }, async (t) => {
  const base = snapshot();
  const proxy = await startEngine({ ...base, network: { ...base.network, limits: { ...base.network.limits, maxConnections: 2, maxConnectionsPerIp: 1 } } });
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const socksTo = (localAddress?: string): Promise<string> =>
    SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: proxy.socks.port, type: 5 }, command: 'connect', destination: { host: 'example.com', port: 80 }, timeout: 5000, ...(localAddress ? { socket_options: { host: '127.0.0.1', port: proxy.socks.port, localAddress } } : {}) }).then(
      ({ socket }) => {
        socket.destroy();
        return 'connected';
      },
      (error: Error) => error.message,
    );
  const held = [await open(proxy.socks.port)];
  t.after(() => held.forEach((s) => s.destroy()));
  await waitFor('the held connection counted', async () => ((await proxy.engine.stats()).connectionsActive === 1 ? true : undefined));
  assert.match(await socksTo(), /NotAllowed/, 'per IP: 127.0.0.1 holds its one connection');
  const other = connect({ port: proxy.socks.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  await once(other, 'connect');
  held.push(other);
  await waitFor('both held connections counted', async () => ((await proxy.engine.stats()).connectionsActive === 2 ? true : undefined));
  assert.match(await socksTo('127.0.0.3'), /NotAllowed/, 'max_connections: two are open');
  assert.deepEqual(hits.map((h) => [h.scope, h.client, h.protocol]), [['connections', '127.0.0.1', 'socks5'], ['connections', '127.0.0.3', 'socks5']]);
  assert.match(hits[1].reason, /max_connections \(2\)/);

  const silent = await open(proxy.socks.port);
  const started = Date.now();
  await Promise.race([once(silent, 'close'), new Promise((r) => setTimeout(r, 10_000))]);
  assert.ok(silent.destroyed || silent.readableEnded, 'the refused client that says nothing is dropped');
  assert.ok(Date.now() - started < 8000, `dropped after ${Date.now() - started} ms`);
  silent.destroy();
});

test('network.timeouts.idle closes a silent tunnel; connect timeout bounds a SOCKS5 handshake to a silent upstream', { timeout: 30_000 }, async (t) => {
  const silent = createServer(() => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => silent.close());
  const silentPort = (silent.address() as { port: number }).port;
  const echoPort = await echoServer(t);
  const base = snapshot([
    { name: 'direct', type: 'direct' },
    { name: 'stuck', type: 'socks5', host: '127.0.0.1', port: silentPort },
  ], [
    { name: 'stuck', domains: ['stuck.test'], backends: [{ name: 'stuck', weight: 1 }] },
    { name: 'rest', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] },
  ]);
  const proxy = await startEngine({ ...base, network: { ...base.network, timeouts: { ...base.network.timeouts, connectMs: 400, idleMs: 600 } } });
  t.after(() => proxy.stop());

  const tunnel = await open(proxy.http.port);
  tunnel.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await once(tunnel, 'data');
  const started = Date.now();
  await once(tunnel, 'close');
  const idle = Date.now() - started;
  // Closed by the 600 ms idle timeout, well before the 30 s read timeout would have.
  assert.ok(idle >= 500 && idle < 10_000, `closed after ${idle} ms of silence`);
  await waitFor('the tunnel record', () => proxy.records.find((r) => r.protocol === 'connect'));
  assert.equal(proxy.records.find((r) => r.protocol === 'connect')?.error, 'idle-timeout');

  const socks = await open(proxy.socks.port);
  socks.write(Buffer.from([5, 1, 0]));
  await once(socks, 'data');
  const name = Buffer.from('stuck.test');
  const t0 = Date.now();
  socks.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0, 80])]));
  const [reply] = (await once(socks, 'data')) as [Buffer];
  assert.equal(reply[1], 0x04, 'host unreachable (timeout) reply');
  assert.ok(Date.now() - t0 < 8000, 'bounded by the 400 ms connect timeout (the default is 10 s)');
  socks.destroy();
});

/** The socket options `ss` shows for established TCP sockets matching a filter (one line per socket). */
function sockets(filter: string): string[] {
  const result = spawnSync('ss', ['-tnoH', 'state', 'established', filter], { encoding: 'utf8', timeout: 5000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split('\n').filter(Boolean);
}

/** The one established socket matching a filter, once nothing it sent is unacknowledged (until then ss shows the retransmission timer, not the keepalive one). */
function settledSocket(what: string, filter: string): Promise<string> {
  return waitFor(`${what} with nothing unacknowledged`, () => {
    const lines = sockets(filter);
    assert.ok(lines.length <= 1, `${what}: ${lines.join('\n')}`);
    return lines.length === 1 && lines[0].split(/\s+/)[1] === '0' ? lines[0] : undefined;
  });
}

test('network.keepalive: TCP keepalive with its interval on the client connections and the upstream ones, none when disabled', { timeout: 30_000 }, async (t) => {
  if (spawnSync('ss', ['-V']).status !== 0) return t.skip('needs ss (iproute2) to read socket options');
  const echoPort = await echoServer(t);
  for (const enabled of [true, false]) {
    const proxy = await startEngine(withKeepalive(enabled, 45_000));
    let stopped = false;
    t.after(() => (stopped ? undefined : proxy.stop()));
    const { socket } = await connectTunnel(proxy.http.port, echoPort);
    t.after(() => socket.destroy());
    const front = await settledSocket('client side', `( sport = :${proxy.http.port} )`);
    const upstream = await settledSocket('upstream side', `( dport = :${echoPort} )`);
    for (const [side, line] of [['client', front], ['upstream', upstream]]) {
      // ss shows the time left until the first probe: just under the interval.
      if (enabled) assert.match(line, /timer:\(keepalive,4[0-5]sec,0\)/, `${side} side: ${line}`);
      else assert.doesNotMatch(line, /keepalive/, `${side} side: ${line}`);
    }
    socket.destroy();
    stopped = true;
    await proxy.stop();
  }
});

test('network.keepalive: a reload applies to the client connections accepted after it, on the HTTP and SOCKS5 listeners', { timeout: 30_000 }, async (t) => {
  if (spawnSync('ss', ['-V']).status !== 0) return t.skip('needs ss (iproute2) to read socket options');
  const echoPort = await echoServer(t);
  const proxy = await startEngine(withKeepalive(true, 45_000));
  t.after(() => proxy.stop());
  // On Linux the accepted sockets inherit both options from the listening socket: none is set per socket.
  const listenerPorts = new Set([proxy.http.port, proxy.socks.port]);
  const perSocket: string[] = [];
  const { setNoDelay, setKeepAlive } = Socket.prototype;
  Socket.prototype.setNoDelay = function (this: Socket, ...args) {
    if (listenerPorts.has(this.localPort ?? 0)) perSocket.push(`setNoDelay on :${this.localPort}`);
    return setNoDelay.apply(this, args);
  };
  Socket.prototype.setKeepAlive = function (this: Socket, ...args) {
    if (listenerPorts.has(this.localPort ?? 0)) perSocket.push(`setKeepAlive on :${this.localPort}`);
    return setKeepAlive.apply(this, args);
  };
  t.after(() => Object.assign(Socket.prototype, { setNoDelay, setKeepAlive }));
  const open: Socket[] = [];
  t.after(() => open.forEach((socket) => socket.destroy()));
  /** What ss shows of the proxy's side of a new tunnel's client connection, on each listener. */
  const clientSides = async (): Promise<[string, string][]> => {
    const http = (await connectTunnel(proxy.http.port, echoPort)).socket;
    const socks = (await SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: proxy.socks.port, type: 5 }, command: 'connect', destination: { host: '127.0.0.1', port: echoPort }, timeout: 5000 })).socket;
    open.push(http, socks);
    return Promise.all([
      settledSocket('http', `( sport = :${proxy.http.port} and dport = :${http.localPort} )`).then((line): [string, string] => ['http', line]),
      settledSocket('socks5', `( sport = :${proxy.socks.port} and dport = :${socks.localPort} )`).then((line): [string, string] => ['socks5', line]),
    ]);
  };
  for (const [listener, line] of await clientSides()) assert.match(line, /timer:\(keepalive,4[0-5]sec,0\)/, `${listener} before the reloads: ${line}`);
  await proxy.engine.reload(withKeepalive(false, 45_000));
  for (const [listener, line] of await clientSides()) assert.doesNotMatch(line, /keepalive/, `${listener} after keepalive was turned off: ${line}`);
  await proxy.engine.reload(withKeepalive(true, 20_000));
  for (const [listener, line] of await clientSides()) assert.match(line, /timer:\(keepalive,(1[5-9]|20)sec,0\)/, `${listener} after the interval became 20 s: ${line}`);
  if (process.platform === 'linux') assert.deepEqual(perSocket, []);
});
