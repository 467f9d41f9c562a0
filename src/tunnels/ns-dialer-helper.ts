import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { promises as dns, lookup } from 'node:dns';
import { connect, isIP, isIPv6, type Socket } from 'node:net';
import { StatusReader } from './tunnel-status.js';

/*
 * The dialer helper: runs inside a tunnel's network namespace (`ip netns exec NS node …`), so
 * every socket it opens is routed by that namespace, i.e. through the tunnel. For each request it
 * resolves the name with the tunnel's DNS servers (the query leaves through the tunnel too),
 * connects, and hands the connected socket to its parent over the IPC channel (SCM_RIGHTS). It
 * never reads or relays a byte of the connection. A UDP request gets a UDP socket bound in the
 * namespace the same way (SOCKS5 UDP ASSOCIATE flows).
 */

/** A request from the parent: connect to host:port (TCP, or UDP with `udp`), or, without a port, only resolve the host. */
interface Request {
  id: number;
  host: string;
  port?: number;
  udp?: boolean;
  timeoutMs: number;
}

const status = new StatusReader(process.argv[2] ?? '');
let resolver: { servers: string; resolver: dns.Resolver } | null = null;

const send = (message: Record<string, unknown>, handle?: Socket | DgramSocket, sent?: () => void): void => {
  if (process.connected) process.send!(message, handle, {}, sent);
};

async function resolve(host: string): Promise<{ address: string; resolvedBy: string }> {
  if (isIP(host)) return { address: host, resolvedBy: 'literal address' };
  const servers = status.read()?.dns ?? [];
  if (servers.length === 0) {
    // No DNS pushed or configured: the system resolver, whose queries also leave from this namespace.
    const address = await new Promise<string>((done, fail) => lookup(host, { family: 0 }, (error, a) => (error ? fail(error) : done(a))));
    return { address, resolvedBy: 'system resolver inside the tunnel namespace' };
  }
  const key = servers.join(',');
  if (resolver?.servers !== key) {
    const r = new dns.Resolver({ timeout: 2_000, tries: 2 });
    r.setServers(servers);
    resolver = { servers: key, resolver: r };
  }
  const via = `tunnel DNS ${servers.join(', ')}`;
  try {
    return { address: (await resolver.resolver.resolve4(host))[0], resolvedBy: via };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENODATA' && code !== 'ENOTFOUND') throw error;
    return { address: (await resolver.resolver.resolve6(host))[0], resolvedBy: via };
  }
}

function fail(id: number, error: unknown): void {
  const e = error as NodeJS.ErrnoException;
  send({ id, ok: false, code: e.code ?? 'EFAILED', message: e.message });
}

process.on('message', (request: Request) => {
  resolve(request.host).then(
    ({ address, resolvedBy }) => {
      if (request.port === undefined) return send({ id: request.id, ok: true, address, resolvedBy });
      if (request.udp) return openUdp(request, address, resolvedBy);
      const socket = connect({ host: address, port: request.port, noDelay: true });
      // Paused before it connects, the socket never starts reading: no byte of a server that
      // speaks first is consumed here before the handle moves to the parent.
      socket.pause();
      const timer = setTimeout(() => {
        socket.destroy();
        send({ id: request.id, ok: false, code: 'ETIMEDOUT', message: `connect timed out after ${request.timeoutMs} ms` });
      }, request.timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        fail(request.id, error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        send({ id: request.id, ok: true, address, resolvedBy, localAddress: socket.localAddress, localPort: socket.localPort }, socket);
      });
    },
    (error) => fail(request.id, error),
  );
});
/**
 * A UDP socket bound inside the namespace, handed over unread; the parent connects it to the
 * destination (a socket connected here would reach the parent in a state its libuv handle and
 * Node's own bookkeeping disagree about). Its routes stay this namespace's wherever it is used.
 */
function openUdp(request: Request, address: string, resolvedBy: string): void {
  const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
  socket.once('error', (error) => {
    socket.close();
    fail(request.id, error);
  });
  socket.bind(0, () => {
    // Once the parent holds its own descriptor this copy is closed: it must not read the parent's answers.
    send({ id: request.id, ok: true, address, resolvedBy, localAddress: socket.address().address }, socket, () => socket.close());
  });
}

process.on('disconnect', () => process.exit(0));
send({ ready: true });
