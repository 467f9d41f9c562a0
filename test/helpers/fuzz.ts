import { connect, type NetConnectOpts } from 'node:net';

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

/** Valid control-API requests (HTTP/1.1 on the control socket) the control fuzzer mutates; none stops the daemon. */
export const CONTROL_SEEDS = [
  'GET /api/status HTTP/1.1\r\nHost: control\r\n\r\n',
  'GET /api/rules/test?host=www.example.com&client=127.0.0.1 HTTP/1.1\r\nHost: control\r\n\r\n',
  'GET /api/debug/traffic?limit=5 HTTP/1.1\r\nHost: control\r\n\r\n',
  'POST /api/config/reload HTTP/1.1\r\nHost: control\r\nContent-Length: 0\r\n\r\n',
  json('POST', '/api/rules', { name: 'fuzzed', match: { domains: ['*.example.com'] }, backend: 'direct' }),
  json('PUT', '/api/rules/all', { name: 'all', match: { domains: ['*'] }, backend: 'direct' }),
  json('POST', '/api/rules/reorder', { names: ['all'] }),
  json('POST', '/api/backends', { name: 'up', type: 'http', address: '127.0.0.1:1' }),
  'DELETE /api/backends/up HTTP/1.1\r\nHost: control\r\n\r\n',
  json('POST', '/api/users', { name: 'alice', password: 'correct horse', groups: ['staff'] }),
  json('POST', '/api/debug/enable', { headers: true }),
].map((s) => Buffer.from(s, 'latin1'));

function json(method: string, path: string, body: unknown): string {
  const text = JSON.stringify(body);
  return `${method} ${path} HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

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

/**
 * Sends one case (to a loopback port, or a socket path) and waits (bounded) for the other side to
 * answer or close; resolves with what it answered, never throws.
 */
export function send(to: number | string, data: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect((typeof to === 'number' ? { port: to, host: '127.0.0.1' } : { path: to }) satisfies NetConnectOpts);
    const answer: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(answer));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', (chunk: Buffer) => answer.push(chunk));
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

/** Runs `count` seeded mutations of control-API requests against a daemon's control socket; returns how many answered 5xx (none should). */
export async function fuzzControl(socket: string, seed: number, count: number, parallel = 8, timeoutMs = 2000): Promise<{ sent: number; serverErrors: string[] }> {
  const random = seeded(seed);
  const cases = Array.from({ length: count }, () => mutate(CONTROL_SEEDS[Math.floor(random() * CONTROL_SEEDS.length)], random));
  const serverErrors: string[] = [];
  for (let i = 0; i < cases.length; i += parallel) {
    const answers = await Promise.all(cases.slice(i, i + parallel).map((data) => send(socket, data, timeoutMs)));
    answers.forEach((answer, j) => {
      if (/^HTTP\/1\.1 5\d\d/.test(answer.toString('latin1'))) serverErrors.push(JSON.stringify(cases[i + j].toString('latin1')));
    });
  }
  return { sent: cases.length, serverErrors };
}
