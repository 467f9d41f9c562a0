import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { parseProxyHeader, V1_MAX_LENGTH } from '../../../src/protocol/proxy-header.js';
import { readProxyHeader } from '../../../src/protocol/proxy-header-reader.js';
import { proxyV1, proxyV2 } from '../../helpers/proxy-header.js';

const done = (data: Buffer) => {
  const parsed = parseProxyHeader(data);
  assert.equal(parsed.state, 'done', JSON.stringify(parsed));
  return parsed as Extract<typeof parsed, { state: 'done' }>;
};

test('v1: TCP4, TCP6 and UNKNOWN lines; the length is the line with its CRLF', () => {
  const line = proxyV1('203.0.113.7', 51234, '10.0.0.1', 8080);
  const parsed = done(Buffer.concat([line, Buffer.from('GET / HTTP/1.1\r\n')]));
  assert.equal(parsed.length, line.length);
  assert.deepEqual(parsed.header, { version: 1, command: 'proxy', source: { address: '203.0.113.7', port: 51234 }, destination: { address: '10.0.0.1', port: 8080 } });
  assert.deepEqual(done(proxyV1('2001:db8::7', 1, '2001:db8::1', 443)).header, { version: 1, command: 'proxy', source: { address: '2001:db8::7', port: 1 }, destination: { address: '2001:db8::1', port: 443 } });
  assert.deepEqual(done(Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n')).header, { version: 1, command: 'local' });
});

test('v2: IPv4, IPv6 (mapped written as Node reports it), LOCAL, and TLVs skipped', () => {
  const v4 = proxyV2({ address: '198.51.100.9', port: 40000 }, { address: '10.1.2.3', port: 1080 }, Buffer.from([0x04, 0x00, 0x01, 0x00]));
  const parsed = done(Buffer.concat([v4, Buffer.from([0x05, 0x01, 0x00])]));
  assert.equal(parsed.length, v4.length);
  assert.deepEqual(parsed.header, { version: 2, command: 'proxy', source: { address: '198.51.100.9', port: 40000 }, destination: { address: '10.1.2.3', port: 1080 } });
  assert.deepEqual(done(proxyV2({ address: '2001:db8:0:0:1::5', port: 9 }, { address: '::1', port: 8 })).header, { version: 2, command: 'proxy', source: { address: '2001:db8::1:0:0:5', port: 9 }, destination: { address: '::1', port: 8 } });
  assert.equal((done(proxyV2({ address: '::ffff:a00:1', port: 9 }, { address: '::1', port: 8 })).header as { source: { address: string } }).source.address, '::ffff:10.0.0.1');
  assert.deepEqual(done(proxyV2(null)).header, { version: 2, command: 'local' });
});

test('every prefix of a valid header asks for more; the whole one parses', () => {
  for (const header of [proxyV1('192.0.2.1', 1, '192.0.2.2', 2), proxyV2({ address: '192.0.2.1', port: 1 })]) {
    for (let n = 0; n < header.length; n++) assert.equal(parseProxyHeader(header.subarray(0, n)).state, 'more', `${n} of ${header.length} bytes`);
    assert.equal(done(header).length, header.length);
  }
});

test('malformed or missing headers are refused with the reason', () => {
  const reason = (text: string | Buffer) => {
    const parsed = parseProxyHeader(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
    assert.equal(parsed.state, 'invalid', `${JSON.stringify(text)} → ${JSON.stringify(parsed)}`);
    return (parsed as { reason: string }).reason;
  };
  assert.match(reason('GET / HTTP/1.1\r\n'), /no PROXY protocol header/);
  assert.match(reason(Buffer.from([0x05, 0x01, 0x00])), /no PROXY protocol header/);
  assert.match(reason('PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n'), /expected/);
  assert.match(reason('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'), /unknown protocol/);
  assert.match(reason('PROXY TCP4 ::1 5.6.7.8 1 2\r\n'), /not IPv4/);
  assert.match(reason('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), /port/);
  assert.match(reason('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'), /port/);
  assert.match(reason(`PROXY ${'x'.repeat(V1_MAX_LENGTH)}`), /longer than 107/);
  const badVersion = proxyV2({ address: '192.0.2.1', port: 1 });
  badVersion[12] = 0x11;
  assert.match(reason(badVersion), /version 1/);
  const udp = proxyV2({ address: '192.0.2.1', port: 1 });
  udp[13] = 0x12;
  assert.match(reason(udp), /not a stream/);
  const huge = proxyV2({ address: '192.0.2.1', port: 1 });
  huge.writeUInt16BE(60_000, 14);
  assert.match(reason(huge), /more than 4096/);
});

/** A loopback server whose accepted socket goes through readProxyHeader; resolves with what the reader and the next reader got. */
async function readThrough(send: Buffer[], timeoutMs = 5_000): Promise<{ error: string | null; header: unknown; after: string }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(client, 'connect');
  for (const part of send) {
    client.write(part);
    await new Promise((r) => setTimeout(r, 5));
  }
  const [socket] = await accepted;
  const result = await new Promise<{ error: string | null; header: unknown; after: string }>((resolve) => {
    readProxyHeader(socket, timeoutMs, (reason, header) => {
      if (reason) return resolve({ error: reason, header, after: '' });
      socket.resume();
      socket.once('data', (chunk) => resolve({ error: null, header, after: chunk.toString() }));
    });
  });
  client.destroy();
  socket.destroy();
  server.close();
  return result;
}

test('readProxyHeader: a header split across reads, then the client bytes reach the next reader intact', async () => {
  const header = proxyV2({ address: '203.0.113.50', port: 6000 });
  const result = await readThrough([header.subarray(0, 7), header.subarray(7, 20), Buffer.concat([header.subarray(20), Buffer.from('GET / HTTP/1.1\r\n\r\n')])]);
  assert.equal(result.error, null);
  assert.deepEqual(result.header, { version: 2, command: 'proxy', source: { address: '203.0.113.50', port: 6000 }, destination: { address: '127.0.0.1', port: 8080 } });
  assert.equal(result.after, 'GET / HTTP/1.1\r\n\r\n');
});

test('readProxyHeader: a peer that sends no header, or stalls inside one, is refused with the reason', async () => {
  assert.match((await readThrough([Buffer.from('GET / HTTP/1.1\r\n\r\n')])).error ?? '', /no PROXY protocol header/);
  assert.match((await readThrough([Buffer.from('PROXY TCP4 1.2')], 300)).error ?? '', /no complete PROXY header within 300 ms/);
});
