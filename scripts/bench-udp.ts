// UDP relay benchmark (part of `npm run bench`; alone: `node --import tsx scripts/bench-udp.ts`).
// A UDP echo server in its own process on loopback; the same load generator sends datagrams of
// PAYLOAD bytes, WINDOW outstanding per flow, for SECONDS, over 1 and 8 flows: straight to the
// echo (direct), through simple-proxy's SOCKS5 UDP ASSOCIATE, and through danted's, in one run.
// Prints echoed datagrams per second and MB/s (payload bytes each way) per target and flow count.
// BENCH_UDP_SECONDS (default 3) sets the time per figure, BENCH_UDP_WORKERS (default 0: one per
// core) simple-proxy's engine workers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { peerUnavailable, startPeer, type Peer } from '../test/helpers/peers.js';
import { freePort } from '../test/helpers/ports.js';

const ROOT = resolve(import.meta.dirname, '..');
const PAYLOAD = 1200;
const WINDOW = 32;
const SECONDS = Number(process.env.BENCH_UDP_SECONDS ?? 3);
const FLOWS = [1, 8];

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sp-bench-udp-'));
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** Where one flow sends: the echo itself, or a relay with the SOCKS5 UDP header for the echo. */
interface Flow {
  host: string;
  port: number;
  header: Buffer;
  close(): void;
}

async function echoServer(): Promise<number> {
  const port = await freePort();
  const script = `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(m, r.port, r.address)); s.bind(${port}, '127.0.0.1', () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((done) => child.stdout!.once('data', () => done()));
  return port;
}

/** A SOCKS5 UDP association (no auth): the relay address, and the TCP control connection to keep. */
function associate(socksPort: number, echoPort: number): Promise<Flow> {
  return new Promise((done, fail) => {
    const control = connect(socksPort, '127.0.0.1');
    let got = Buffer.alloc(0);
    control.once('connect', () => control.write(Buffer.from([5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0])));
    control.on('error', fail);
    control.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 12) return;
      if (got[3] !== 0) return fail(new Error(`association refused (reply ${got[3]})`));
      const host = `${got[6]}.${got[7]}.${got[8]}.${got[9]}`;
      const header = Buffer.from([0, 0, 0, 1, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]);
      done({ host: host === '0.0.0.0' ? '127.0.0.1' : host, port: got.readUInt16BE(10), header, close: () => control.destroy() });
    });
  });
}

/** Runs `flows` windowed senders for SECONDS; resolves with echoed datagrams per second. */
async function measure(open: () => Promise<Flow>, flows: number): Promise<number> {
  const opened = await Promise.all(Array.from({ length: flows }, open));
  const sockets: DgramSocket[] = [];
  let received = 0;
  let running = true;
  for (const flow of opened) {
    const socket = createSocket('udp4');
    sockets.push(socket);
    const datagram = Buffer.concat([flow.header, Buffer.alloc(PAYLOAD, 0x61)]);
    const send = (): void => {
      if (running) socket.send(datagram, flow.port, flow.host);
    };
    let answered = performance.now();
    socket.on('message', () => {
      received++;
      answered = performance.now();
      send();
    });
    await new Promise<void>((done) => socket.bind(0, '127.0.0.1', () => done()));
    for (let i = 0; i < WINDOW; i++) send();
    // Lost datagrams shrink the window; a flow silent for 50 ms has lost it all and starts again.
    const refill = setInterval(() => {
      if (performance.now() - answered < 50) return;
      answered = performance.now();
      for (let i = 0; i < WINDOW; i++) send();
    }, 50);
    socket.once('close', () => clearInterval(refill));
  }
  await new Promise((r) => setTimeout(r, 500));
  const start = received;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rate = ((received - start) * 1000) / (performance.now() - started);
  running = false;
  for (const socket of sockets) socket.close();
  for (const flow of opened) flow.close();
  return rate;
}

async function startSimpleProxy(): Promise<number> {
  const [httpPort, socksPort] = [await freePort(), await freePort()];
  const at = join(dir, 'simple-proxy');
  mkdirSync(at, { recursive: true });
  const config = join(at, 'server-config.yaml');
  writeFileSync(
    config,
    `server:\n  http_port: ${httpPort}\n  socks5_port: ${socksPort}\n  bind_address: "127.0.0.1"\n  log_level: warn\n  workers: ${process.env.BENCH_UDP_WORKERS ?? 0}\nnetwork:\n  limits:\n    max_connections_per_ip: 0\naccess_control:\n  trusted_clients: ["127.0.0.0/8"]\n`,
  );
  const env = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(at, 'run'), SIMPLE_PROXY_STATE_DIR: join(at, 'state') };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'simple-proxy-server.js'), 'start', '--foreground', '--config', config], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  const deadline = Date.now() + 30_000;
  while (spawnSync('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://127.0.0.1:${httpPort}/`]).status !== 0) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('simple-proxy did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
  return socksPort;
}

const echoPort = await echoServer();
const targets: { name: string; open: () => Promise<Flow> }[] = [
  { name: 'direct', open: async () => ({ host: '127.0.0.1', port: echoPort, header: Buffer.alloc(0), close: () => undefined }) },
];
const socksPort = await startSimpleProxy();
targets.push({ name: 'simple-proxy', open: () => associate(socksPort, echoPort) });
let dante: Peer | null = null;
const noDante = peerUnavailable('dante');
if (noDante === null) {
  dante = await startPeer('dante', undefined, { udp: true });
  const port = dante.port;
  targets.push({ name: 'danted', open: () => associate(port, echoPort) });
}
console.log(`\nUDP relay: ${PAYLOAD}-byte datagrams echoed, ${WINDOW} in flight per flow, ${SECONDS} s per figure`);
console.log(`${'target'.padEnd(14)} ${'flows'.padStart(5)} ${'datagrams/s'.padStart(12)} ${'MB/s each way'.padStart(14)}`);
for (const target of targets) {
  for (const flows of FLOWS) {
    const rate = await measure(target.open, flows);
    console.log(`${target.name.padEnd(14)} ${String(flows).padStart(5)} ${Math.round(rate).toString().padStart(12)} ${((rate * PAYLOAD) / 1e6).toFixed(1).padStart(14)}`);
    console.log(`BENCHJSON ${JSON.stringify({ metric: `udp_${flows}flow_dps`, target: target.name, value: Math.round(rate) })}`);
  }
}
if (noDante !== null) console.log(`danted not measured: ${noDante}`);
await dante?.stop();
process.exit(0);
