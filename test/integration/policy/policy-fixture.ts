import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { MetricsSpec } from '../../../src/config/model.js';
import type { Engine } from '../../../src/engine/engine-api.js';
import { parseMetrics } from '../../helpers/prometheus-text.js';

/** A snapshot's `metrics` that turns the proxy metrics on (read with `scrape`, no listener needed). */
export const METRICS_ON: MetricsSpec = { endpoint: '/metrics', host: '127.0.0.1' };

/** The engine's proxy metrics as the daemon exposes them (merged Prometheus text), parsed. */
export async function scrape(engine: Engine): Promise<Map<string, number>> {
  return parseMetrics(await AggregatorRegistry.aggregate(await engine.metricsJson()).metrics());
}

/** What a large body is sent in. */
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** A loopback origin that answers every GET with `size` bytes of 'a' (default 100), or `?bytes=N` of them. */
export async function origin(size = 100): Promise<{ port: number; server: Server }> {
  const body = Buffer.alloc(size, 0x61);
  const server = createServer((req, res) => {
    const bytes = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes') ?? size);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
    if (bytes === size) return void res.end(body);
    // Streamed with backpressure: a large body allocated and queued at once stalls this process (the test's client too) for as long as it takes.
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server };
}

/** Runs curl with a timeout; resolves with its exit code and output. */
export function curl(args: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Sends raw bytes on a fresh connection and collects everything until the server closes (bounded). */
export async function exchange(port: number, host: string, data: Buffer | string, options: { localAddress?: string; timeoutMs?: number } = {}): Promise<{ reply: Buffer; closed: boolean }> {
  const socket: Socket = connect({ port, host, localAddress: options.localAddress });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(data);
  const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), options.timeoutMs ?? 3000))]);
  socket.destroy();
  return { reply: Buffer.concat(chunks), closed };
}

/** A SOCKS5 no-auth greeting plus a CONNECT request for an IPv4 or domain target (`asName`: always as a domain). */
export function socksConnect(host: string, port: number, asName = false): Buffer {
  const v4 = !asName && /^\d+\.\d+\.\d+\.\d+$/.test(host);
  const address = v4 ? Buffer.from([0x01, ...host.split('.').map(Number)]) : Buffer.concat([Buffer.from([0x03, host.length]), Buffer.from(host)]);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), Buffer.from([0x05, 0x01, 0x00]), address, portBytes]);
}
