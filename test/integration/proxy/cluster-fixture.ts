import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';

/** Opens a CONNECT tunnel from `localAddress`; resolves with the status the proxy answered and the socket (left open). */
export async function tunnel(proxyPort: number, targetPort: number, localAddress: string): Promise<{ status: number; socket: Socket }> {
  const socket = connect({ port: proxyPort, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nHost: 127.0.0.1:${targetPort}\r\n\r\n`);
  const reply = await Promise.race([once(socket, 'data').then(([chunk]) => String(chunk)), once(socket, 'close').then(() => '')]);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0), socket };
}

/** Each worker's total of a counter (its label sets summed), from the per-worker metrics. */
export async function perWorker(engine: ClusteredEngine, name: string): Promise<number[]> {
  const lists = await engine.metricsJson();
  return lists.map((metrics) => (metrics.find((m) => m.name === name)?.values ?? []).reduce((n, v) => n + v.value, 0));
}
