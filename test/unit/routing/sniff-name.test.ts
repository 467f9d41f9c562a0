import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { connect } from 'node:tls';
import { sniffName } from '../../../src/routing/sniff-name.js';

/** The opening bytes a real TLS client (node's) sends for a server name. */
async function clientHello(servername: string): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const first = once(server, 'connection').then(async (args) => {
    const socket = args[0] as Socket;
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    return chunk;
  });
  const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, servername, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await first;
  client.destroy();
  server.close();
  return hello;
}

test('the SNI of a real ClientHello, and "more" while it is cut short', async () => {
  const hello = await clientHello('www.Example.com');
  assert.deepEqual(sniffName(hello), { name: 'www.example.com', from: 'tls' });
  assert.equal(sniffName(hello.subarray(0, 40)), 'more');
  assert.equal(sniffName(Buffer.alloc(0)), 'more');
});

test('the Host of an HTTP/1 request, without its port; nothing for IP literals or other protocols', () => {
  assert.deepEqual(sniffName(Buffer.from('GET / HTTP/1.1\r\nUser-Agent: x\r\nHost: api.example.org:8080\r\n\r\n')), { name: 'api.example.org', from: 'http' });
  assert.equal(sniffName(Buffer.from('GET / HTTP/1.1\r\nUser-Agent: x\r\n')), 'more');
  assert.equal(sniffName(Buffer.from('GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n')), null);
  assert.equal(sniffName(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')), null);
  assert.equal(sniffName(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 1, 0])), null, 'a TLS record that is not a ClientHello');
});
