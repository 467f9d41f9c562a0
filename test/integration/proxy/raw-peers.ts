import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

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

/** Opens a CONNECT tunnel (to `host`, 127.0.0.1 unless given) and returns the socket positioned after the 200 answer (with any bytes that followed it). */
export async function connectTunnel(proxyPort: number, port: number, host = '127.0.0.1'): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort });
  await once(socket, 'connect');
  socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  return readAnswerHead(socket, /^HTTP\/1\.1 200 /);
}

/** Reads an HTTP answer head off `socket`; resolves with the bytes after it when the head matches `expected`, else rejects. */
export function readAnswerHead(socket: Socket, expected: RegExp): Promise<{ socket: Socket; rest: Buffer }> {
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
      if (!expected.test(status)) reject(new Error(`refused: ${status}`));
      else resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed before the answer')));
  });
}


/** An HTTP origin answering with what it saw (headers), or N bytes at /bytes/N. */
export async function echoOrigin(): Promise<{ port: number; seen: IncomingHttpHeaders[]; close(): void }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req.headers);
    const bytes = /^\/bytes\/(\d+)/.exec(req.url ?? '');
    if (bytes) {
      res.writeHead(200, { 'content-length': bytes[1] });
      res.end(Buffer.alloc(Number(bytes[1]), 7));
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, seen, close: () => server.close() };
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with the openssl CLI. */
export function makeCertificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sp-tls-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=simple-proxy test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

