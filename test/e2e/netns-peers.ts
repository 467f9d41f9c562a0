/**
 * The peers of the SSRF e2e, run inside its network namespace (`nsenter ... node --import tsx`):
 *
 *   netns-peers.ts origin ADDRESS:PORT=LABEL ...   HTTP origins answering LABEL (101 to an Upgrade),
 *                                                  one connection per request, a `HIT` line on each
 *   netns-peers.ts probe JSON                      raw requests through the proxy; prints the answers as JSON
 */
import { createServer } from 'node:http';
import { exchange, socksConnect } from '../integration/policy/policy-fixture.js';

/** One request through the proxy: plain HTTP, CONNECT, WebSocket upgrade or SOCKS5 (the host always as a name). */
export interface Probe {
  front: 'plain' | 'connect' | 'upgrade' | 'socks';
  host: string;
  port: number;
}

/** Where the probes go. */
export interface ProbeRun {
  proxy: string;
  http: number;
  socks: number;
  probes: Probe[];
}

/** The answer to one probe, without what differs between any two answers (Date). */
async function probe(run: ProbeRun, p: Probe): Promise<string> {
  const authority = `${p.host}:${p.port}`;
  // Sent through an open tunnel: the origin answers it and closes, and so the tunnel ends.
  const inner = `GET / HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`;
  if (p.front === 'socks') {
    const { reply } = await exchange(run.socks, run.proxy, Buffer.concat([socksConnect(p.host.replace(/^\[|\]$/g, ''), p.port, true), Buffer.from(inner)]));
    return `socks ${reply.subarray(2, 4).toString('hex')}${reply.includes('public-ok') ? ' public-ok' : ''}`;
  }
  const request =
    p.front === 'connect'
      ? `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n${inner}`
      : `GET http://${authority}/ HTTP/1.1\r\nHost: ${authority}\r\n${p.front === 'upgrade' ? 'Upgrade: websocket\r\nConnection: Upgrade\r\n' : 'Connection: close\r\n'}\r\n`;
  const { reply } = await exchange(run.http, run.proxy, request, { timeoutMs: 5000 });
  return reply.toString('latin1').replace(/\r\nDate: [^\r]*/i, '');
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'probe') {
    const run = JSON.parse(args[0]) as ProbeRun;
    const answers: string[] = [];
    for (const p of run.probes) {
      const started = Date.now();
      answers.push(await probe(run, p));
      process.stderr.write(`${p.front} ${p.host}:${p.port} ${Date.now() - started} ms\n`);
    }
    process.stdout.write(`${JSON.stringify(answers)}\n`);
    return;
  }
  for (const spec of args) {
    const [where, label] = spec.split('=');
    const colon = where.lastIndexOf(':');
    const server = createServer((_req, res) => {
      process.stdout.write(`HIT ${where}\n`);
      res.setHeader('connection', 'close');
      res.end(label);
    });
    server.on('upgrade', (_req, socket) => {
      process.stdout.write(`HIT ${where}\n`);
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Origin: ${label}\r\n\r\n`);
    });
    // A CONNECT tunnel carries whatever the client sends: the same server answers over it.
    server.listen(Number(where.slice(colon + 1)), where.slice(0, colon));
  }
  process.stdout.write('READY\n');
}

void main();
