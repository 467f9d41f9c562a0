import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ProxyProtocolGate, readProxyHeaderFirst } from '../../../src/policy/proxy-protocol-gate.js';
import { clientAddress } from '../../../src/protocol/client-address.js';
import { makeTlsFiles } from '../../helpers/tls-files.js';
import { proxyV1, proxyV2 } from '../../helpers/proxy-header.js';

/** Sends `bytes` from a loopback client; the gate decides; resolves with its verdict and the first bytes the front then reads. */
async function gateOf(gate: ProxyProtocolGate, bytes: Buffer): Promise<{ client?: unknown; refused?: string; front: string }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  client.end(bytes);
  const [socket] = await accepted;
  try {
    return await new Promise((resolve) => {
      gate.accept(
        socket,
        (who) => {
          let front = '';
          socket.on('data', (c) => (front += c));
          socket.resume();
          socket.once('end', () => resolve({ client: who, front }));
        },
        (reason) => resolve({ refused: reason, front: '' }),
      );
    });
  } finally {
    socket.destroy();
    server.close();
  }
}

test('disabled or absent: no gate', () => {
  assert.equal(ProxyProtocolGate.of(undefined), null);
  assert.equal(ProxyProtocolGate.of({ enabled: false, trusted: ['127.0.0.1'] }), null);
});

test('a trusted balancer: its header names the client, and the front reads the client bytes after it', async () => {
  const gate = ProxyProtocolGate.of({ enabled: true, trusted: ['127.0.0.0/8'] })!;
  const v1 = await gateOf(gate, Buffer.concat([proxyV1('203.0.113.9', 40000, '127.0.0.1', 8080), Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
  assert.deepEqual(v1, { client: { address: '203.0.113.9', port: 40000 }, front: 'GET / HTTP/1.1\r\n\r\n' });
  const v2 = await gateOf(gate, Buffer.concat([proxyV2({ address: '2001:db8::9', port: 1 }, { address: '::1', port: 1080 }), Buffer.from([5, 1, 0])]));
  assert.deepEqual(v2.client, { address: '2001:db8::9', port: 1 });
  assert.deepEqual([...Buffer.from(v2.front, 'latin1')], [5, 1, 0]);
  // LOCAL: the balancer's own health check; its address stays the client.
  assert.deepEqual(await gateOf(gate, Buffer.concat([proxyV2(null), Buffer.from('GET /health/ready HTTP/1.1\r\n\r\n')])), { client: null, front: 'GET /health/ready HTTP/1.1\r\n\r\n' });
});

test('a trusted balancer must send the header: none, or a malformed one, is refused with the reason', async () => {
  const gate = ProxyProtocolGate.of({ enabled: true, trusted: ['127.0.0.1'] })!;
  assert.match((await gateOf(gate, Buffer.from('GET / HTTP/1.1\r\n\r\n'))).refused ?? '', /no PROXY protocol header/);
  assert.match((await gateOf(gate, Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n'))).refused ?? '', /port/);
});

test('an untrusted peer: nothing is read ahead, its header is never believed', async () => {
  const gate = ProxyProtocolGate.of({ enabled: true, trusted: ['10.0.0.0/8'] })!;
  const spoof = Buffer.concat([proxyV1('198.51.100.1', 1, '127.0.0.1', 8080), Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
  assert.deepEqual(await gateOf(gate, spoof), { client: null, front: spoof.toString('latin1') });
});

test('readProxyHeaderFirst on a TLS server: a ClientHello in the same packet as the header still reaches the handshake', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-pp-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = makeTlsFiles(dir);
  const server = createHttpsServer({ key: readFileSync(files.key), cert: readFileSync(files.cert) }, (req, res) => res.end(`client ${clientAddress(req.socket)}`));
  const gate = ProxyProtocolGate.of({ enabled: true, trusted: ['127.0.0.1'] });
  const warnings: string[] = [];
  readProxyHeaderFirst(server, () => gate, (m) => warnings.push(m), { named: () => undefined });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  for (const together of [false, true]) {
    const raw = connect((server.address() as { port: number }).port, '127.0.0.1');
    await once(raw, 'connect');
    // Corked: the header and the ClientHello leave in one write, as a balancer often sends them.
    if (together) raw.cork();
    raw.write(proxyV1('203.0.113.1', 5555, '127.0.0.1', 443));
    if (!together) await new Promise((r) => setTimeout(r, 50));
    const secure = tlsConnect({ socket: raw, ca: readFileSync(files.ca), servername: 'localhost' });
    if (together) process.nextTick(() => raw.uncork());
    await once(secure, 'secureConnect');
    secure.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let answer = '';
    secure.on('data', (c) => (answer += c));
    await once(secure, 'end');
    assert.match(answer, /^HTTP\/1\.1 200/, `header and ClientHello ${together ? 'together' : 'apart'}`);
  }
  assert.deepEqual(warnings, []);
});
