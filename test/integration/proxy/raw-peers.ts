import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

/** A raw TCP server: greets first with `greeting`, then sends `payload`, and reports the sha256 of what it received. */
export async function rawServer(greeting: Buffer, payload: Buffer): Promise<{ server: Server; port: number; received: Promise<string> }> {
  let resolveReceived!: (hash: string) => void;
  const received = new Promise<string>((r) => (resolveReceived = r));
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    socket.on('data', (c) => hash.update(c));
    socket.on('end', () => {
      resolveReceived(hash.digest('hex'));
      socket.end();
    });
    socket.write(greeting);
    socket.write(payload);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, received };
}

/** Opens a CONNECT tunnel and returns the socket positioned after the 200 answer (with any bytes that followed it). */
export async function connectTunnel(proxyPort: number, port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort });
  await once(socket, 'connect');
  socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  // Not `for await`: leaving that loop would destroy the socket.
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      socket.pause();
      const status = head.subarray(0, end).toString();
      if (!/^HTTP\/1\.1 200 /.test(status)) reject(new Error(`tunnel refused: ${status}`));
      else resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('tunnel closed before the answer')));
  });
}

