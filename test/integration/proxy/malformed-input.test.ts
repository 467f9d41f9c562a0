import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { PolicyHooks } from '../../../src/daemon/policy-hooks.js';
import type { LimitHit } from '../../../src/policy/limit-hit.js';
import { Logger } from '../../../src/telemetry/logger.js';
import { startEngine, snapshot } from './engine-fixture.js';

/** Sends bytes (in the given pieces) and collects everything until the server closes or the timeout. */
function exchange(port: number, pieces: Buffer[], timeoutMs = 3000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('SOCKS5: malformed and unsupported handshakes get the right reply and a clean close', async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const cases: { name: string; send: Buffer[]; expect: string; closed?: boolean }[] = [
    { name: 'wrong version byte', send: [hex('06 01 00')], expect: '' },
    { name: 'SOCKS4 request gets SOCKS4 rejection', send: [hex('04 01 0050 7f000001 00')], expect: '005b000000000000' },
    { name: 'no acceptable method', send: [hex('05 01 80')], expect: '05ff' },
    { name: 'zero methods', send: [hex('05 00')], expect: '05ff' },
    { name: 'BIND is not supported', send: [hex('05 01 00'), hex('05 02 00 01 7f000001 0050')], expect: '0500' + '05070001000000000000' },
    { name: 'unknown address type', send: [hex('05 01 00'), hex('05 01 00 09 7f000001 0050')], expect: '0500' + '05080001000000000000' },
    { name: 'bad request version', send: [hex('05 01 00'), hex('04 01 00 01 7f000001 0050')], expect: '0500' },
    { name: 'port zero', send: [hex('05 01 00'), hex('05 01 00 01 7f000001 0000')], expect: '0500' + '05010001000000000000' },
    { name: 'empty domain', send: [hex('05 01 00'), hex('05 01 00 03 00 0050')], expect: '0500' + '05010001000000000000' },
    { name: 'connection refused target', send: [hex('05 01 00'), hex('05 01 00 01 7f000001 0001')], expect: '0500' + '05050001000000000000' },
    { name: 'truncated greeting then close', send: [hex('05')], expect: '', closed: false },
    { name: 'a name that does not resolve: host unreachable', send: [hex('05 01 00'), Buffer.concat([hex('05 01 00 03 14'), Buffer.from('nothing-here.invalid'), hex('0050')])], expect: '0500' + '05040001000000000000' },
    { name: 'truncated request then silence', send: [hex('05 01 00'), hex('05 01 00 01 7f00')], expect: '0500', closed: false },
    { name: 'IPv6 address, connection refused', send: [hex('05 01 00'), hex('05 01 00 04 00000000000000000000000000000001 0001')], expect: '0500' + '05050001000000000000' },
    { name: 'username/password: wrong subnegotiation version', send: [hex('05 01 02'), hex('05 01 61 01 62')], expect: '0502' + '0101' },
    { name: 'username/password: truncated then silence', send: [hex('05 01 02'), hex('01 05 6162')], expect: '0502', closed: false },
    { name: 'username/password without auth configured: taken, then the CONNECT', send: [hex('05 01 02'), hex('01 01 61 01 62'), hex('05 01 00 01 7f000001 0001')], expect: '0502' + '0100' + '05050001000000000000' },
  ];
  for (const c of cases) {
    const { data, closed } = await exchange(proxy.socks.port, c.send, c.closed === false ? 300 : 3000);
    assert.equal(data.toString('hex'), c.expect, c.name);
    assert.equal(closed, c.closed ?? true, `${c.name}: ${c.closed === false ? 'waits for the rest' : 'closed by the proxy'}`);
  }
  // The listener still serves after all of that.
  const { data } = await exchange(proxy.socks.port, [hex('05 01 00')]);
  assert.equal(data.toString('hex').slice(0, 4), '0500');
  // A host no rule matches: not allowed by the ruleset.
  const narrow = await startEngine(snapshot(undefined, [{ name: 'only', domains: ['only.test'], backends: [{ name: 'direct', weight: 1 }] }]));
  t.after(() => narrow.stop());
  const unrouted = await exchange(narrow.socks.port, [hex('05 01 00'), hex('05 01 00 01 7f000001 0050')]);
  assert.equal(unrouted.data.toString('hex'), '0500' + '05020001000000000000', 'no matching rule');
  // UDP ASSOCIATE is served (test/integration/udp) unless switched off.
  const noUdp = await startEngine(snapshot(undefined, undefined, { raw: { socks5: { udp: { enabled: false } } } }));
  t.after(() => noUdp.stop());
  const udpOff = await exchange(noUdp.socks.port, [hex('05 01 00'), hex('05 03 00 01 7f000001 0050')]);
  assert.equal(udpOff.data.toString('hex'), '0500' + '05070001000000000000', 'UDP ASSOCIATE with socks5.udp.enabled: false');
  assert.equal(udpOff.closed, true);
});

test('SOCKS5: a handshake split into single bytes still works', async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const bytes = hex('05 01 00 05 01 00 01 7f000001 0001');
  const { data } = await exchange(proxy.socks.port, [...bytes].map((b) => Buffer.from([b])));
  assert.equal(data.toString('hex'), '0500' + '05050001000000000000');
});

test('HTTP: malformed requests get 400 (or 431) and the listener keeps serving', async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const cases: { name: string; send: string; status: number }[] = [
    { name: 'garbage request line', send: 'GARBAGE\r\n\r\n', status: 400 },
    { name: 'bad HTTP version', send: 'GET http://example.com/ HTTP/9.9\r\n\r\n', status: 400 },
    { name: 'space in header name', send: 'GET http://example.com/ HTTP/1.1\r\nBad Header: x\r\n\r\n', status: 400 },
    { name: 'conflicting content-length', send: 'POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', status: 400 },
    { name: 'both content-length and chunked', send: 'POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
    { name: 'origin-form is not a proxy request', send: 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'CONNECT without port', send: 'CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'CONNECT with userinfo', send: 'CONNECT user@example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'CONNECT port out of range', send: 'CONNECT example.com:70000 HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'absolute URI with bad port', send: 'GET http://example.com:99999/ HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'a scheme other than http', send: 'GET ftp://example.com/file HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'CONNECT to a URL instead of host:port', send: 'CONNECT http://example.com:443/ HTTP/1.1\r\nHost: example.com\r\n\r\n', status: 400 },
    { name: 'obsolete line folding', send: 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\n  folded\r\n\r\n', status: 400 },
    { name: 'header too large', send: `GET http://example.com/ HTTP/1.1\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, status: 431 },
  ];
  for (const c of cases) {
    const { data } = await exchange(proxy.http.port, [Buffer.from(c.send)]);
    const statusLine = data.toString('latin1').split('\r\n')[0];
    assert.match(statusLine, new RegExp(`^HTTP/1\\.1 ${c.status} `), `${c.name}: got "${statusLine}"`);
  }
});

test('HTTP: a request looping back to this proxy is refused, each refusal reported with its reason (live event and log)', async (t) => {
  const proxy = await startEngine(snapshot());
  t.after(() => proxy.stop());
  const hits: LimitHit[] = [];
  proxy.engine.on('limit:hit', (hit) => hits.push(hit));
  const log = new PassThrough();
  let logged = '';
  log.on('data', (c: Buffer) => (logged += c.toString()));
  const hooks = new PolicyHooks(new Logger('info', log));
  await hooks.start(proxy.engine.snapshot, proxy.engine);
  t.after(() => hooks.close());
  const own = `127.0.0.1:${proxy.http.port}`;
  const plain = await exchange(proxy.http.port, [Buffer.from(`GET http://${own}/ HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`)]);
  assert.match(plain.data.toString('latin1'), /^HTTP\/1\.1 403 [^]*own listener/);
  const tunnel = await exchange(proxy.http.port, [Buffer.from(`CONNECT ${own} HTTP/1.1\r\nHost: ${own}\r\n\r\n`)]);
  assert.match(tunnel.data.toString('latin1'), /^HTTP\/1\.1 403 [^]*own listener/);
  const socks = await exchange(proxy.http.port, [Buffer.from(`CONNECT localhost:${proxy.socks.port} HTTP/1.1\r\nHost: x\r\n\r\n`)]);
  assert.match(socks.data.toString('latin1'), /^HTTP\/1\.1 403 /);
  const viaSocks = await exchange(proxy.socks.port, [Buffer.from([5, 1, 0]), Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, proxy.http.port >> 8, proxy.http.port & 0xff])]);
  assert.equal(viaSocks.data[3], 0x02, 'SOCKS5: not allowed by ruleset');
  // Through an upstream that is this proxy itself, the request comes back carrying our Via.
  const base = proxy.engine.snapshot;
  await proxy.engine.reload({ ...base, backends: [{ name: 'self', type: 'http', host: '127.0.0.1', port: proxy.http.port }], rules: [{ name: 'all', domains: ['*'], backends: [{ name: 'self', weight: 1 }] }] });
  const via = await exchange(proxy.http.port, [Buffer.from('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')]);
  assert.match(via.data.toString('latin1'), /^HTTP\/1\.1 508 [^]*loops back to this proxy/);

  assert.deepEqual(hits.map((h) => [h.scope, h.protocol, h.target]), [
    ['loop', 'http', own],
    ['loop', 'connect', own],
    ['loop', 'connect', `localhost:${proxy.socks.port}`],
    ['loop', 'socks5', own],
    ['loop', 'http', 'example.com:80'],
  ]);
  assert.ok(hits.slice(0, 4).every((h) => /own listener \(request loop refused\)/.test(h.reason) && h.client === '127.0.0.1'));
  assert.match(hits[4].reason, /already passed through it/);
  await new Promise((r) => setImmediate(r));
  assert.equal(logged.match(/refused: [^\n]*own listener \(request loop refused\)/g)?.length, 4, logged);
  assert.match(logged, /refused: request loops back to this proxy/);
});
