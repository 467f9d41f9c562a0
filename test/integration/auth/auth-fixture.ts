import { once } from 'node:events';
import { createServer, request, Agent, type Server } from 'node:http';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import { snapshot } from '../proxy/engine-fixture.js';

/** A loopback origin that answers every request with the method, path and headers it received (JSON). */
export async function echoOrigin(): Promise<{ port: number; server: Server; seen: Record<string, string | string[] | undefined>[] }> {
  const seen: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server, seen };
}

/**
 * A server snapshot with `server.auth` set and two direct backends: "direct" (rule for
 * 127.0.0.1) and "other" (rule for localhost), so group ACLs can be told apart.
 */
export function authSnapshot(auth: Record<string, unknown>, extra: Record<string, unknown> = {}): ConfigSnapshot {
  return snapshot(
    [
      { name: 'direct', type: 'direct' },
      { name: 'other', type: 'direct' },
    ],
    [
      { name: 'local-name', domains: ['localhost'], backends: [{ name: 'other', weight: 1 }] },
      { name: 'default', domains: ['*'], backends: [{ name: 'direct', weight: 1 }] },
    ],
    { raw: { server: { auth }, ...extra } },
  );
}

/** `Basic …` for a user and password. */
export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Sends `count` plain proxy requests (absolute URLs) with one Proxy-Authorization value over `sockets` keep-alive connections; returns the status counts. */
export async function burst(proxyPort: number, url: string, authorization: string, count: number, sockets = 16): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const statuses = new Map<number, number>();
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent, headers: { 'proxy-authorization': authorization }, timeout: 15_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < count) await one();
  };
  await Promise.all(Array.from({ length: sockets }, worker));
  agent.destroy();
  return statuses;
}

/** A SOCKS5 greeting offering username/password, the RFC 1929 request and a CONNECT. */
export function socksWithPassword(user: string, password: string, host: string, port: number): Buffer {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  return Buffer.concat([
    Buffer.from([0x05, 0x01, 0x02]),
    Buffer.from([0x01, user.length]),
    Buffer.from(user),
    Buffer.from([password.length]),
    Buffer.from(password),
    Buffer.from([0x05, 0x01, 0x00, 0x03, host.length]),
    Buffer.from(host),
    portBytes,
  ]);
}
