import { connect } from 'node:net';

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same cases. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid openings the mutations start from, by listener kind. */
export const SEEDS = {
  http: [
    'GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n',
    'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n',
    'POST http://127.0.0.1:1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  ].map((s) => Buffer.from(s, 'latin1')),
  socks5: [Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 1]), Buffer.from([5, 2, 0, 2, 1, 1, 0x61, 1, 0x62]), Buffer.from([5, 1, 0, 5, 1, 0, 3, 9, ...Buffer.from('localhost'), 0, 80]), Buffer.from([5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0])],
};

/** One mutation of a seed: flipped, inserted, deleted, repeated or truncated bytes. */
export function mutate(seed: Buffer, random: () => number): Buffer {
  let out = Buffer.from(seed);
  const steps = 1 + Math.floor(random() * 4);
  for (let i = 0; i < steps; i++) {
    const at = Math.floor(random() * Math.max(1, out.length));
    const kind = Math.floor(random() * 5);
    if (kind === 0 && out.length) out[at] = Math.floor(random() * 256);
    else if (kind === 1) out = Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(random() * 256)]), out.subarray(at)]);
    else if (kind === 2) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else if (kind === 3) out = Buffer.concat([out.subarray(0, at), Buffer.alloc(Math.floor(random() * 2000), out[at] ?? 0x41), out.subarray(at)]);
    else out = out.subarray(0, at);
  }
  return out;
}

/** Sends one case and waits (bounded) for the proxy to answer or close; never throws. */
export function send(port: number, data: Buffer, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => undefined);
    socket.on('connect', () => socket.end(data));
  });
}

/** Runs `count` seeded cases against the HTTP and SOCKS5 ports, `parallel` at a time; returns how many were sent. */
export async function fuzz(ports: { http: number; socks5: number }, seed: number, count: number, parallel = 16, timeoutMs = 2000): Promise<number> {
  const random = seeded(seed);
  const cases = Array.from({ length: count }, () => {
    const kind = random() < 0.6 ? 'http' : 'socks5';
    const seeds = SEEDS[kind];
    return { port: ports[kind], data: mutate(seeds[Math.floor(random() * seeds.length)], random) };
  });
  for (let i = 0; i < cases.length; i += parallel) await Promise.all(cases.slice(i, i + parallel).map((c) => send(c.port, c.data, timeoutMs)));
  return cases.length;
}
