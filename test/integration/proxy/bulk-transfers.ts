import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { once } from 'node:events';
import { connectTunnel, readAnswerHead } from './raw-peers.js';

/*
 * Many parallel bulk transfers of random bytes through the proxy, each checked by sha256 at the
 * far end. Every transfer carries its own random payload, so a chunk that lands in another
 * connection's stream (a read buffer shared across connections) changes that stream's hash.
 * Inside a tunnel the client speaks a one-line protocol to a raw origin: `D id` downloads
 * payload `id`, `U id` uploads it and gets its sha256 back once the client half-closed.
 */

const MB = 1024 * 1024;

/** One transfer: which payload, which way, and how the client behaves. */
export interface Job {
  id: number;
  direction: 'down' | 'up';
  /** Reads with pauses, so the proxy's writes to it stay pending. */
  slow: boolean;
  /** A download whose client half-closes right after asking, before the bytes arrive. */
  halfClose: boolean;
}

/** Random payloads (5 to 50 MB) with their sha256, shared by every scenario of a test file. */
export interface Payloads {
  data: Buffer[];
  hashes: string[];
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** `count` random payloads: a 50 MB one, two of 20 MB, one of 10 MB, the rest 5 MB (plus a few odd bytes each). */
export function makePayloads(count = 32): Payloads {
  const sizes = Array.from({ length: count }, (_, i) => [50, 20, 20, 10][i] ?? 5);
  const data = sizes.map((mb, i) => randomBytes(mb * MB + i * 7));
  return { data, hashes: data.map(sha256) };
}

/** The mix of one scenario: downloads and uploads alternate; every third is a slow reader, every fourth download half-closes. */
export function jobs(count = 32): Job[] {
  return Array.from({ length: count }, (_, id) => ({ id, direction: id % 2 === 0 ? 'down' : 'up', slow: id % 3 === 0, halfClose: id % 4 === 0 }));
}

/** Serves the one-line protocol on an accepted socket; `first` holds bytes already read from it. */
function serveRaw(socket: Socket, payloads: Payloads, first: Buffer = Buffer.alloc(0)): void {
  let head = first;
  const onHead = (chunk?: Buffer): void => {
    if (chunk) head = Buffer.concat([head, chunk]);
    const newline = head.indexOf('\n');
    if (newline === -1) return;
    socket.removeListener('data', onHead);
    const [verb, id] = head.subarray(0, newline).toString().split(' ');
    const rest = head.subarray(newline + 1);
    const payload = payloads.data[Number(id)];
    if (verb === 'D') {
      socket.end(payload);
      socket.resume();
      return;
    }
    const hash = createHash('sha256').update(rest);
    socket.on('data', (c: Buffer) => hash.update(c));
    socket.once('end', () => socket.end(`${hash.digest('hex')}\n`));
  };
  socket.on('data', onHead);
  socket.on('error', () => socket.destroy());
  onHead();
}

/** A raw TCP origin for tunnels, and an HTTP origin for forwarded requests and WebSocket upgrades. */
export interface Origins {
  raw: number;
  http: number;
  close(): void;
}

/** Starts both origins on loopback. */
export async function startOrigins(payloads: Payloads): Promise<Origins> {
  const raw: Server = createServer({ allowHalfOpen: true }, (socket) => serveRaw(socket, payloads));
  const http: HttpServer = createHttpServer((req, res) => {
    const [, verb, id] = (req.url ?? '').split('/');
    if (verb === 'd') {
      res.writeHead(200, { 'content-length': payloads.data[Number(id)].length, 'content-type': 'application/octet-stream' });
      res.end(payloads.data[Number(id)]);
      return;
    }
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => hash.update(c));
    req.on('end', () => res.end(hash.digest('hex')));
  });
  http.on('upgrade', (_req, socket: Socket, head: Buffer) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    serveRaw(socket, payloads, head);
  });
  raw.listen(0, '127.0.0.1');
  http.listen(0, '127.0.0.1');
  await Promise.all([once(raw, 'listening'), once(http, 'listening')]);
  return {
    raw: (raw.address() as { port: number }).port,
    http: (http.address() as { port: number }).port,
    close: () => {
      raw.close();
      http.closeAllConnections();
      http.close();
    },
  };
}

/** Hashes a readable to its end; a slow reader pauses briefly after every 256 KiB. */
async function hashAll(stream: NodeJS.ReadableStream & { pause(): void; resume(): void }, slow: boolean, first: Buffer = Buffer.alloc(0)): Promise<{ hash: string; length: number }> {
  const hash = createHash('sha256').update(first);
  let length = first.length;
  let sincePause = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      sincePause += chunk.length;
      if (slow && sincePause >= 256 * 1024) {
        sincePause = 0;
        stream.pause();
        setTimeout(() => stream.resume(), 2);
      }
    });
    stream.once('end', resolve);
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`closed after ${length} bytes, before the end`)));
    stream.resume();
  });
  return { hash: hash.digest('hex'), length };
}

/** Runs one job over an open tunnel socket (positioned after the proxy's answer, with `rest` already read). */
export async function overTunnel(socket: Socket, rest: Buffer, job: Job, payloads: Payloads): Promise<string | null> {
  const payload = payloads.data[job.id];
  if (job.direction === 'down') {
    socket.write(`D ${job.id}\n`);
    if (job.halfClose) socket.end();
    const got = await hashAll(socket, job.slow, rest);
    socket.destroy();
    if (got.length !== payload.length) return `download ${job.id}: ${got.length} of ${payload.length} bytes`;
    return got.hash === payloads.hashes[job.id] ? null : `download ${job.id}: bytes differ (sha256)`;
  }
  socket.write(`U ${job.id}\n`);
  socket.end(payload);
  const answer = await new Promise<string>((resolve, reject) => {
    let text = rest.toString();
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.once('end', () => resolve(text.trim()));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the origin answered')));
    socket.resume();
  });
  socket.destroy();
  return answer === payloads.hashes[job.id] ? null : `upload ${job.id}: the origin received other bytes (sha256)`;
}

/** Where a front's client connects: the proxy's listener and, for TLS, the CA to trust. */
export interface ProxyAddress {
  port: number;
  ca?: Buffer;
}

/** Opens a CONNECT tunnel over a TLS connection to the proxy's TLS listener. */
async function tlsTunnel(proxy: ProxyAddress, port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = tlsConnect({ host: '127.0.0.1', port: proxy.port, ca: proxy.ca, servername: 'localhost' });
  await once(socket, 'secureConnect');
  socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return readAnswerHead(socket, /^HTTP\/1\.1 200 /);
}

/** Opens a SOCKS5 tunnel (no auth, IPv4 target) and returns the socket after the grant. */
async function socksTunnel(proxyPort: number, port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort, allowHalfOpen: true });
  await once(socket, 'connect');
  socket.write(Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, port >> 8, port & 0xff]));
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 12) return;
      socket.removeListener('data', onData);
      socket.pause();
      if (head[1] !== 0x00 || head[3] !== 0x00) reject(new Error(`SOCKS5 refused: ${head.subarray(0, 12).toString('hex')}`));
      else resolve({ socket, rest: head.subarray(12) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed before the grant')));
  });
}

/** Opens a WebSocket upgrade through the HTTP proxy and returns the socket after the 101. */
async function upgradeTunnel(proxyPort: number, port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort, allowHalfOpen: true });
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET http://127.0.0.1:${port}/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return readAnswerHead(socket, /^HTTP\/1\.1 101 /);
}

/** A download as a forwarded GET. */
async function downloadOverHttp(proxyPort: number, originPort: number, job: Job, payloads: Payloads): Promise<string | null> {
  const payload = payloads.data[job.id];
  const req = request({ host: '127.0.0.1', port: proxyPort, path: `http://127.0.0.1:${originPort}/d/${job.id}`, agent: false });
  req.end();
  const [res] = await once(req, 'response'); // rejects on the request's 'error'
  if (res.statusCode !== 200) return `download ${job.id}: status ${res.statusCode}`;
  const got = await hashAll(res, job.slow);
  if (got.length !== payload.length) return `download ${job.id}: ${got.length} of ${payload.length} bytes`;
  return got.hash === payloads.hashes[job.id] ? null : `download ${job.id}: bytes differ (sha256)`;
}

/** How a client reaches the origin through the proxy. */
export type Front = 'http' | 'connect' | 'socks5' | 'tls' | 'websocket';

/**
 * Runs every job at once through `front` and returns the failures (empty when every byte arrived
 * as sent). An upload over plain HTTP is checked by the origin's answer.
 */
export async function runAll(front: Front, proxy: ProxyAddress, origins: Origins, payloads: Payloads, all: Job[] = jobs(payloads.data.length)): Promise<string[]> {
  const one = async (job: Job): Promise<string | null> => {
    if (front === 'http') {
      if (job.direction === 'down') return downloadOverHttp(proxy.port, origins.http, job, payloads);
      return uploadOverHttp(proxy.port, origins.http, job, payloads);
    }
    const opened =
      front === 'connect'
        ? await connectTunnel(proxy.port, origins.raw)
        : front === 'socks5'
          ? await socksTunnel(proxy.port, origins.raw)
          : front === 'tls'
            ? await tlsTunnel(proxy, origins.raw)
            : await upgradeTunnel(proxy.port, origins.http);
    return overTunnel(opened.socket, opened.rest, job, payloads);
  };
  const results = await Promise.all(all.map((job) => one(job).catch((error: Error) => `${job.direction} ${job.id}: ${error.message}`)));
  return results.filter((r): r is string => r !== null);
}

/** An upload as a POST whose answer is the sha256 the origin computed. */
async function uploadOverHttp(proxyPort: number, originPort: number, job: Job, payloads: Payloads): Promise<string | null> {
  const req = request({ host: '127.0.0.1', port: proxyPort, path: `http://127.0.0.1:${originPort}/u/${job.id}`, method: 'POST', agent: false });
  const failed = new Promise<never>((_, reject) => req.on('error', reject));
  failed.catch(() => undefined);
  req.end(payloads.data[job.id]);
  const [res] = await Promise.race([once(req, 'response'), failed]);
  let text = '';
  for await (const chunk of res) text += chunk;
  if (res.statusCode !== 200) return `upload ${job.id}: status ${res.statusCode}`;
  return text === payloads.hashes[job.id] ? null : `upload ${job.id}: the origin received other bytes (sha256)`;
}
