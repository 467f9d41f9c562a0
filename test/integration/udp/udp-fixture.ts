import { execFile } from 'node:child_process';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { SocksClient } from 'socks';
import type { UdpHub } from '../../../src/proxy/udp/udp-hub.js';

/** An engine's UDP relay state (associations, NAT entries, drop counters). */
export const hubOf = (engine: object): UdpHub => (engine as { udp: UdpHub }).udp;

/** A loopback UDP echo server: answers every datagram with the same bytes, and remembers who sent them. */
export interface UdpEcho {
  port: number;
  /** Datagrams received, with their source (`address:port`). */
  seen: { from: string; data: string }[];
  close(): void;
}

/** Starts a UDP echo server on `host` (an ephemeral port). */
export async function udpEcho(host: string): Promise<UdpEcho> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const seen: UdpEcho['seen'] = [];
  socket.on('message', (data, from) => {
    seen.push({ from: `${from.address}:${from.port}`, data: data.toString() });
    socket.send(data, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
  return { port: socket.address().port, seen, close: () => socket.close() };
}

/** A datagram that came back through the relay, header parsed; `data` is latin1, so any payload's bytes are `Buffer.from(data, 'latin1')`. */
export interface Relayed {
  host: string;
  port: number;
  data: string;
}

/** One UDP association opened with the Node `socks` client. */
export interface Association {
  control: Socket;
  relay: { host: string; port: number };
  /** The client's own UDP socket (sends to the relay). */
  udp: DgramSocket;
  /** Sends a payload for host:port through the relay. */
  send(host: string, port: number, data: string | Buffer): void;
  /** Sends raw bytes to the relay (bad input tests). */
  sendRaw(bytes: Buffer): void;
  /** The next datagram relayed back (rejects after `timeoutMs`). */
  next(timeoutMs?: number): Promise<Relayed>;
  /**
   * Sends and waits for the answer `accept` recognises (late duplicates of earlier answers are
   * passed over), sending again each second (UDP may lose either way), up to `attempts` times.
   */
  ask(host: string, port: number, data: string | Buffer, accept?: (r: Relayed) => boolean, attempts?: number): Promise<Relayed>;
  close(): void;
}

/** Opens a UDP association with the Node `socks` client (RFC 1929 when `auth` is given) to the listener at `proxyHost`. */
export async function associate(socksPort: number, auth?: { user: string; password: string }, proxyHost = '127.0.0.1'): Promise<Association> {
  const established = await new Promise<{ socket: Socket; remoteHost?: { host: string; port: number } }>((resolve, reject) => {
    const client = new SocksClient({
      proxy: { host: proxyHost, port: socksPort, type: 5, userId: auth?.user, password: auth?.password },
      command: 'associate',
      destination: { host: '0.0.0.0', port: 0 },
      timeout: 10_000,
    });
    client.once('established', resolve);
    client.once('error', reject);
    client.connect();
  });
  const relay = established.remoteHost!;
  // The library spells an IPv6 relay address in full; the socket takes it as it is.
  const v6 = relay.host.includes(':');
  const udp = createSocket(v6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => udp.bind(0, v6 ? '::1' : '127.0.0.1', () => resolve()));
  const inbox: Relayed[] = [];
  let closed = false;
  const waiting: ((r: Relayed) => void)[] = [];
  udp.on('message', (datagram) => {
    const frame = SocksClient.parseUDPFrame(datagram);
    // The library spells IPv6 in full; compare in the canonical (compressed) form.
    const host = frame.remoteHost.host.includes(':') ? new URL(`http://[${frame.remoteHost.host}]/`).hostname.slice(1, -1) : frame.remoteHost.host;
    const relayed = { host, port: frame.remoteHost.port, data: frame.data.toString('latin1') };
    const waiter = waiting.shift();
    if (waiter) waiter(relayed);
    else inbox.push(relayed);
  });
  const next = (timeoutMs = 10_000): Promise<Relayed> => {
    const ready = inbox.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(done), 1);
        reject(new Error(`no datagram relayed back within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (r: Relayed): void => {
        clearTimeout(timer);
        resolve(r);
      };
      waiting.push(done);
    });
  };
  return {
    control: established.socket,
    relay,
    udp,
    send: (host, port, data) => udp.send(SocksClient.createUDPFrame({ remoteHost: { host, port }, data: Buffer.from(data) }), relay.port, relay.host),
    sendRaw: (bytes) => udp.send(bytes, relay.port, relay.host),
    next,
    ask: async (host, port, data, accept = () => true, attempts = 10) => {
      for (let attempt = 1; ; attempt++) {
        udp.send(SocksClient.createUDPFrame({ remoteHost: { host, port }, data: Buffer.from(data) }), relay.port, relay.host);
        const deadline = Date.now() + 1_000;
        try {
          for (;;) {
            const answer = await next(Math.max(1, deadline - Date.now()));
            if (accept(answer)) return answer;
          }
        } catch (error) {
          if (attempt >= attempts) throw error;
        }
      }
    },
    close: () => {
      if (closed) return;
      closed = true;
      established.socket.destroy();
      udp.close();
    },
  };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The system Python, which has Debian's python3-socks (PySocks). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * Sends one datagram with PySocks through the SOCKS5 proxy (UDP ASSOCIATE) to host:port and
 * prints what came back and from where, as JSON.
 */
export function pysocksExchange(socksPort: number, host: string, port: number, data: string, auth?: { user: string; password: string }): Promise<{ data: string; from: [string, number] }> {
  const script = `
import json, socket, socks, sys
s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
s.set_proxy(socks.SOCKS5, "127.0.0.1", int(sys.argv[1]), rdns=True, username=sys.argv[5] or None, password=sys.argv[6] or None)
s.settimeout(10)
s.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3])))
data, sender = s.recvfrom(2048)
print(json.dumps({"data": data.decode(), "from": [sender[0], sender[1]]}))
s.close()
`;
  return new Promise((resolve, reject) => {
    execFile(SYSTEM_PYTHON, ['-c', script, String(socksPort), host, String(port), data, auth?.user ?? '', auth?.password ?? ''], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`PySocks failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout));
    });
  });
}
