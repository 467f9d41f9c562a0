// `npm run soak -- [MINUTES (default 3)] [WORKERS (default 2)]`: minutes of mixed traffic through
// one daemon (plain HTTP on new and kept-alive connections, CONNECT and SOCKS5 tunnels, status
// calls, metrics scrapes, a reload every 10 s) with the memory of its processes sampled every
// 5 s. Prints the traffic served, every sample and the trend; fails on a failed request past 1 in
// 1000, on a daemon that stops, or on memory that keeps growing after the warm-up (the fitted line
// over the last two thirds rising by more than 8 MB).
import { createServer, request, Agent } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { startDaemonProcess } from '../test/integration/daemon/daemon-process.js';

const minutes = Number(process.argv[2] ?? 3);
const workers = Number(process.argv[3] ?? 2);
const SAMPLE_MS = 5_000;
const GROWTH_LIMIT_MB = 8;

const body = Buffer.alloc(4096, 0x61);
const site = createServer((_req, res) => res.end(body)).listen(0, '127.0.0.1');
await once(site, 'listening');
const origin = (site.address() as { port: number }).port;
const daemon = await startDaemonProcess('metrics:\n  enabled: true\n', workers);
const counts = { http: 0, keepAlive: 0, connect: 0, socks5: 0, control: 0, reloads: 0 };
const failed: Partial<Record<keyof typeof counts, number>> = {};
const deadline = Date.now() + minutes * 60_000;
const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });

/** Resident memory (MB) of the daemon and its engine workers. */
function rssMb(): number {
  const pids = [daemon.pid, ...readFileSync(`/proc/${daemon.pid}/task/${daemon.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  let kb = 0;
  for (const pid of pids) kb += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

function plain(agent: Agent | false): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: daemon.port, path: `http://127.0.0.1:${origin}/`, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** One GET inside a tunnel opened with `opening`, which the proxy answers with `reply` bytes first. */
function tunnel(port: number, opening: Buffer[], replyBytes: (chunk: Buffer) => number | null): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    let step = 0;
    let inside = false;
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(10_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => socket.write(opening[step++]));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (!inside) {
        const used = replyBytes(got);
        if (used === null) return;
        if (used < 0) return finish(false);
        got = got.subarray(used);
        if (step < opening.length) return void socket.write(opening[step++]);
        inside = true;
        socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      }
      if (got.includes(body.subarray(0, 64)) && got.length >= body.length) finish(true);
    });
  });
}

const connectTunnel = (): Promise<boolean> =>
  tunnel(daemon.port, [Buffer.from(`CONNECT 127.0.0.1:${origin} HTTP/1.1\r\nHost: 127.0.0.1:${origin}\r\n\r\n`)], (got) => {
    const end = got.indexOf('\r\n\r\n');
    if (end < 0) return null;
    return got.subarray(0, 12).toString() === 'HTTP/1.1 200' ? end + 4 : -1;
  });

const socksTunnel = (): Promise<boolean> => {
  const request5 = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, origin >> 8, origin & 0xff]);
  let greeted = false;
  return tunnel(daemon.socks5, [Buffer.from([5, 1, 0]), request5], (got) => {
    if (!greeted) {
      if (got.length < 2) return null;
      greeted = true;
      return got[1] === 0 ? 2 : -1;
    }
    if (got.length < 10) return null;
    return got[1] === 0 ? 10 : -1;
  });
};

/** A control call as the CLI makes it: a request on the control socket, answered 200. */
function controlCall(path: string, method = 'GET'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: daemon.socket, path, method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function loop(kind: keyof typeof counts, once_: () => Promise<boolean>, pauseMs = 0): Promise<void> {
  while (Date.now() < deadline && daemon.alive()) {
    if (await once_()) counts[kind]++;
    else failed[kind] = (failed[kind] ?? 0) + 1;
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

const samples: { at: number; mb: number }[] = [];
const started = Date.now();
const sampler = setInterval(() => {
  const mb = rssMb();
  samples.push({ at: (Date.now() - started) / 60_000, mb });
  console.log(`soak: ${((Date.now() - started) / 1000).toFixed(0)} s, daemon RSS ${mb.toFixed(1)} MB, ${JSON.stringify(counts)}, failed ${JSON.stringify(failed)}`);
}, SAMPLE_MS);
await Promise.all([
  loop('http', () => plain(false)),
  loop('http', () => plain(false)),
  loop('keepAlive', () => plain(keepAlive)),
  loop('keepAlive', () => plain(keepAlive)),
  loop('connect', connectTunnel),
  loop('socks5', socksTunnel),
  loop('control', () => controlCall('/api/status'), 200),
  loop('control', () => controlCall('/metrics'), 500),
  loop('reloads', () => controlCall('/api/config/reload', 'POST'), 10_000),
]);
clearInterval(sampler);
keepAlive.destroy();
const alive = daemon.alive();
await daemon.stop();
site.close();

// Least-squares line over the samples after the warm-up (the first third).
const kept = samples.slice(Math.floor(samples.length / 3));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const mx = mean(kept.map((s) => s.at));
const my = mean(kept.map((s) => s.mb));
const slope = kept.reduce((a, s) => a + (s.at - mx) * (s.mb - my), 0) / Math.max(1e-9, kept.reduce((a, s) => a + (s.at - mx) ** 2, 0));
const growth = slope * (kept.at(-1)!.at - kept[0].at);
const failures = Object.values(failed).reduce((a, b) => a + b, 0);
const total = counts.http + counts.keepAlive + counts.connect + counts.socks5 + counts.control + counts.reloads;
console.log(`soak: ${minutes} min, ${workers} workers: ${total} exchanges (${JSON.stringify(counts)}), ${failures} failed (${JSON.stringify(failed)}), RSS ${kept[0].mb.toFixed(1)} -> ${kept.at(-1)!.mb.toFixed(1)} MB after warm-up, trend ${slope.toFixed(2)} MB/min (${growth.toFixed(1)} MB over the window, limit ${GROWTH_LIMIT_MB})`);
const problems = [
  ...(alive ? [] : ['the daemon stopped']),
  ...(failures > total / 1000 ? [`${failures} failed exchanges`] : []),
  ...(growth > GROWTH_LIMIT_MB ? [`memory grows: ${growth.toFixed(1)} MB over ${(kept.at(-1)!.at - kept[0].at).toFixed(1)} min`] : []),
];
if (problems.length > 0) console.log(`soak FAILED: ${problems.join('; ')}`);
process.exit(problems.length > 0 ? 1 : 0);
