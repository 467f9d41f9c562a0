import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { networkInterfaces } from 'node:os';
import type { Target } from '../backends/backend.js';
import type { ConfigSnapshot, ListenerSpec } from '../config/model.js';
import type { BoundListener } from '../engine/engine-api.js';
import { DialError } from '../errors.js';
import type { Policy } from '../policy/policy.js';
import { clientAddress, proxiedClient, setProxiedClient } from '../protocol/client-address.js';
import type { ProxyEndpoint } from '../protocol/proxy-header.js';
import { rawHttpError } from '../protocol/http-error.js';
import { REFUSALS, refusal, type RefusalCode } from '../protocol/refusal.js';
import { answerResponse } from './admission/answers.js';
import { connectHeadOf, handleConnect } from './connect-handler.js';
import { serveConnectFirst, takeHttpParser } from './connect-first.js';
import { FirstBytesWait } from './first-bytes-wait.js';
import { closeServer, listen } from './listen.js';
import type { ConnectionLedger } from './connection-ledger.js';
import { forwardHttpRequest } from './http-forward.js';
import type { ProxyContext } from './proxy-context.js';
import { handleSocks5 } from './socks5-handler.js';
import { refuseSocks5 } from './socks5-refusal.js';
import { readTlsMaterial } from './tls-material.js';
import { proxyProtocolGate, readProxyHeaderFirst, type ProxyProtocolGate } from '../policy/proxy-protocol-gate.js';
import { handleUpgrade } from './upgrade-handler.js';
import type { SlotLeases } from '../policy/slot-leases.js';
import { holdForSlot } from './slot-gate.js';
import { inheritSocketOptions, setSocketOptions, type KeepaliveSetting } from './accepted-socket-options.js';

/** What the listeners need from the engine. */
export interface ListenerContext {
  /** The fronts' context (config, admission, records). */
  readonly proxy: ProxyContext;
  readonly ledger: ConnectionLedger;
  /** The traffic policy new connections meet (IP lists and connection limits at accept). */
  policy(): Policy;
  /** A listener failed to accept a connection (out of descriptors): reported, never fatal. */
  acceptFailed(error: NodeJS.ErrnoException): void;
  /** Tells the daemon log (a refused PROXY header). */
  warn(message: string): void;
  /** max_connections_per_ip counted over every engine process (an engine worker on shared sockets); null otherwise. */
  slots: SlotLeases | null;
}

interface Listening {
  spec: ListenerSpec;
  server: NetServer | HttpServer;
  bound: BoundListener;
  /** Whether the sockets it accepts inherit TCP_NODELAY and keepalive from its listening socket (else each gets them as it is accepted). */
  inherits: boolean;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** One options object for every SOCKS5 connection. */
const SOCKS5_OPTIONS = { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS };
/** How long a SOCKS5 client refused by a connection limit may take to read its answer. */
const REFUSAL_TIMEOUT_MS = 5_000;
/** SOCKS5 clients being refused at once; beyond that a refused connection is simply closed. */
const MAX_REFUSING = 256;

/**
 * The engine's listening sockets: binding, the checks made at accept (IP lists, connection
 * limits), hand-over to the fronts, certificate and header-limit reloads, and the loop guard that
 * refuses dials reaching one of these listeners.
 */
export class Listeners {
  private readonly listening: Listening[] = [];
  private ownAddresses = new Set<string>();
  private ownPorts = new Set<number>();
  /** Client connections the other engine processes had open at their last report: max_connections counts them. */
  openElsewhere = 0;
  /** Who may (and then must) send a PROXY header; null when `server.proxy_protocol` is off. */
  private proxyProtocol: ProxyProtocolGate | null = null;
  /**
   * PROXY clients of TLS connections between the header and the handshake, by the peer's
   * address and port: the TLS socket the fronts see is another object than the accepted one.
   */
  private readonly tlsProxied = new Map<string, ProxyEndpoint>();
  /** Plain HTTP connections waiting for their first bytes (a request head is due within the handshake time). */
  private readonly waiting = new FirstBytesWait(HANDSHAKE_TIMEOUT_MS, (socket) =>
    socket.end(rawAnswer('request-timeout', `no request within ${HANDSHAKE_TIMEOUT_MS / 1000} s`), () => socket.destroy()),
  );

  /** `network.keepalive` for the connections accepted from now on (start and each reload set it). */
  private keepalive: KeepaliveSetting = { enabled: false, intervalMs: 0 };

  constructor(private readonly ctx: ListenerContext) {}

  /** Binds a listener per spec; binds none (closing those already bound) if any cannot be bound. */
  async start(config: ConfigSnapshot): Promise<BoundListener[]> {
    this.proxyProtocol = proxyProtocolGate(config);
    this.keepalive = config.network.keepalive;
    try {
      for (const spec of config.listeners) {
        const server = this.create(spec, config);
        const bound = await listen(server, spec);
        // After listen, an error is a failed accept (out of descriptors): reported, never fatal.
        server.on('error', (error: NodeJS.ErrnoException) => this.ctx.acceptFailed(error));
        const listening: Listening = { spec, server, bound, inherits: false };
        // One listener for the server's life (the accept balance wraps the listeners it finds): it acts only where inheriting failed.
        server.prependListener('connection', (socket: Socket) => {
          if (!listening.inherits) setSocketOptions(socket, this.keepalive);
        });
        this.socketOptions(listening);
        this.listening.push(listening);
      }
    } catch (error) {
      await Promise.all(this.listening.splice(0).map((l) => closeServer(l.server)));
      throw error;
    }
    this.refreshOwnAddresses();
    return this.bound();
  }

  /** Serves a connection another engine worker accepted on listener `index` and passed here: as if this listener's server had accepted it. */
  accept(index: number, socket: Socket): void {
    const listening = this.listening[index];
    if (!listening) return void socket.destroy();
    // Accepted on the shared listening socket by another process: it inherited TCP_NODELAY and keepalive there, or gets them from the 'connection' listener start() added.
    if (listening.spec.kind === 'socks5') socket.allowHalfOpen = true;
    listening.server.emit('connection', socket);
  }

  /** The listening servers, in config order. */
  servers(): (NetServer | HttpServer)[] {
    return this.listening.map((l) => l.server);
  }

  /** Listeners currently bound. */
  bound(): BoundListener[] {
    return this.listening.map((l) => l.bound);
  }

  /**
   * Reads the certificates a reload to `next` needs (throws, changing nothing, when one cannot be
   * served) and returns what applies them with the new header limit.
   */
  prepareReload(next: ConfigSnapshot): () => void {
    const certificates = this.listening.flatMap((l) => {
      const spec = next.listeners.find((n) => n.kind === l.spec.kind && n.host === l.spec.host && n.port === l.spec.port);
      return l.spec.tls && spec?.tls ? [{ listening: l, spec, material: readTlsMaterial(spec.tls) }] : [];
    });
    const proxyProtocol = proxyProtocolGate(next);
    return () => {
      this.proxyProtocol = proxyProtocol;
      this.keepalive = next.network.keepalive;
      for (const l of this.listening) this.socketOptions(l);
      // Each new connection's parser takes the server's limit: a changed max_header_size applies from the next one.
      for (const l of this.listening) if (l.spec.kind === 'http') (l.server as HttpServer & { maxHeaderSize: number }).maxHeaderSize = next.network.maxHeaderSize;
      // A renewed certificate (same path or a new one) serves new handshakes; open connections keep theirs.
      for (const { listening, spec, material } of certificates) {
        (listening.server as HttpsServer).setSecureContext(material);
        listening.spec = spec;
      }
    };
  }

  /** Stops accepting; resolves per server once it closed. */
  close(): { server: NetServer | HttpServer; done: Promise<void> }[] {
    this.waiting.closeAll();
    return this.listening.splice(0).map((l) => {
      const done = closeServer(l.server);
      if ('closeIdleConnections' in l.server) l.server.closeIdleConnections();
      return { server: l.server, done };
    });
  }

  /** Refuses a freshly dialed socket that reached one of this proxy's own listeners (a loop). */
  guard(socket: Socket, target: Target): void {
    // The dialed port is known without a getpeername call: most connections stop here.
    if (!this.ownPorts.has(target.port)) return;
    const port = socket.remotePort;
    if (port === undefined || !this.ownPorts.has(port)) return;
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    // Anything in 127/8 is this host too.
    if (this.ownAddresses.has(address) || address.startsWith('127.')) {
      throw new DialError('loop', `${target.host}:${target.port} is this proxy's own listener (request loop refused)`);
    }
  }

  private create(spec: ListenerSpec, config: ConfigSnapshot): NetServer | HttpServer {
    const network = config.network;
    const proxy = this.ctx.proxy;
    if (spec.kind === 'socks5') {
      // No per-socket options here: see socketOptions().
      const server = createNetServer({ allowHalfOpen: true }, (socket) => {
        if (!this.ctx.policy().allowsClient(clientAddress(socket), 'socks5')) return socket.destroy();
        if (!this.admit(socket, 'socks5')) return this.refuseSocks5(socket);
        handleSocks5(proxy, socket, SOCKS5_OPTIONS);
      });
      if (this.ctx.slots) holdForSlot(server, this.ctx.slots, this.listed, (socket) => this.refusePerIp(socket, 'socks5', false), false);
      readProxyHeaderFirst(server, () => this.proxyProtocol, this.ctx.warn);
      return server;
    }
    const httpOptions = {
      // Set on the listening socket instead (socketOptions); node:http's default would set it on each socket.
      noDelay: false,
      keepAliveTimeout: network.timeouts.idleMs,
      // Uploads and downloads may take long; the idle timeout below bounds silence instead.
      requestTimeout: 0,
      headersTimeout: HANDSHAKE_TIMEOUT_MS,
      maxHeaderSize: network.maxHeaderSize,
    };
    const server = spec.tls ? createHttpsServer({ ...httpOptions, ...readTlsMaterial(spec.tls) }) : createHttpServer(httpOptions);
    server.timeout = network.timeouts.idleMs;
    const parser = spec.tls ? null : takeHttpParser(server);
    // The IP lists act on the raw connection, before TLS or HTTP parsing.
    server.on('connection', (socket: Socket) => {
      if (!this.ctx.policy().allowsClient(clientAddress(socket), 'http')) socket.destroy();
    });
    server.on(spec.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (socket.destroyed) return;
      if (spec.tls) this.inheritProxiedClient(socket as TLSSocket);
      // As on the plain listener: a tunnel client's half-close must not close the way back.
      socket.allowHalfOpen = true;
      if (!this.admit(socket, 'http')) socket.end(rawAnswer('connection-limit', 'too many connections'));
    });
    // A plain listener reads a strict CONNECT head itself; everything else goes to node:http (taken off above).
    if (parser) {
      serveConnectFirst(server, parser, {
        waiting: this.waiting,
        maxHeaderSize: () => proxy.runtime().config.network.maxHeaderSize,
        connect: (head, socket, rest) => handleConnect(proxy, head, socket, rest),
      });
    }
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      try {
        forwardHttpRequest(proxy, req, res);
      } catch (error) {
        answerResponse(res, null, refusal('internal', `internal error: ${(error as Error).message}`));
      }
    };
    server.on('request', onRequest);
    // Expect: 100-continue is answered by the origin (or after a bounded wait), not at once by Node.
    server.on('checkContinue', onRequest);
    server.on('connect', (req, socket: Socket, head: Buffer) => handleConnect(proxy, connectHeadOf(req), socket, head));
    server.on('upgrade', (req, socket: Socket, head: Buffer) => handleUpgrade(proxy, req, socket, head));
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable || (error.code === 'ECONNRESET' && socket.bytesRead === 0)) return socket.destroy();
      if (error.code === 'HPE_HEADER_OVERFLOW') {
        const limit = proxy.runtime().config.network.maxHeaderSize;
        return void socket.end(rawAnswer('header-too-large', `request header fields larger than network.max_header_size (${limit} bytes)`));
      }
      const code = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request-timeout' : 'malformed';
      socket.end(rawAnswer(code, `malformed request (${error.code ?? 'parse error'})`));
    });
    if (this.ctx.slots) holdForSlot(server, this.ctx.slots, this.listed, (socket) => this.refusePerIp(socket, 'http', Boolean(spec.tls)), Boolean(spec.tls));
    readProxyHeaderFirst(server, () => this.proxyProtocol, this.ctx.warn, spec.tls ? { named: (socket, client) => this.holdForHandshake(socket, client) } : undefined);
    return server;
  }

  /**
   * Gives the sockets a listener accepts from now on TCP_NODELAY and the keepalive in effect: set on
   * the listening socket for them to inherit, or, where that fails, on each one as it is accepted.
   * (A connection the kernel completed between binding and this call, while starting, has neither.)
   */
  private socketOptions(listening: Listening): void {
    listening.inherits = inheritSocketOptions(listening.server, this.keepalive);
  }

  /** Keeps a TLS connection's PROXY client until its handshake completes (or the connection closes). */
  private holdForHandshake(socket: Socket, client: ProxyEndpoint): void {
    const key = `${socket.remoteAddress}|${socket.remotePort}`;
    this.tlsProxied.set(key, client);
    socket.once('close', () => this.tlsProxied.delete(key));
  }

  /** Gives a completed TLS connection the PROXY client its accepted socket had. */
  private inheritProxiedClient(socket: TLSSocket): void {
    if (this.tlsProxied.size === 0 || proxiedClient(socket)) return;
    const key = `${socket.remoteAddress}|${socket.remotePort}`;
    const client = this.tlsProxied.get(key);
    if (client === undefined) return;
    this.tlsProxied.delete(key);
    setProxiedClient(socket, client);
  }

  /** Counts a new client connection; false when a connection limit (total or per IP) is reached. */
  private admit(socket: Socket, protocol: 'http' | 'socks5'): boolean {
    const ledger = this.ctx.ledger;
    const policy = this.ctx.policy();
    const max = this.ctx.proxy.runtime().config.network.limits.maxConnections;
    if (ledger.clients.size + this.openElsewhere >= max) {
      policy.refusedByConnectionLimit(clientAddress(socket), protocol, max);
      return false;
    }
    if (!policy.admitClient(socket, protocol)) return false;
    ledger.addClient(socket);
    return true;
  }

  /** Whether the IP lists let a client in (the slot gate leaves the others to the 'connection' listeners, which refuse and report them). */
  private readonly listed = (address: string): boolean => this.ctx.policy().listsAdmit(address);

  /** Refuses a connection over max_connections_per_ip counted over every engine process (a TLS one is closed: nothing can be said before its handshake). */
  private refusePerIp(socket: Socket, protocol: 'http' | 'socks5', tls: boolean): void {
    this.ctx.policy().refusedByClientLimit(clientAddress(socket), protocol);
    if (protocol === 'socks5') this.refuseSocks5(socket);
    else if (tls) socket.destroy();
    else socket.end(rawAnswer('connection-limit', 'too many connections'));
  }

  /** Tells a SOCKS5 client over a connection limit so (reply 0x02), within bounds of time and number. */
  private refuseSocks5(socket: Socket): void {
    const refusing = this.ctx.ledger.refusing;
    if (refusing.size >= MAX_REFUSING) return void socket.destroy();
    refusing.add(socket);
    socket.once('close', () => refusing.delete(socket));
    refuseSocks5(socket, REFUSAL_TIMEOUT_MS);
  }

  private refreshOwnAddresses(): void {
    this.ownPorts = new Set(this.listening.map((l) => l.bound.port));
    const addresses = new Set<string>(['127.0.0.1', '::1']);
    for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) addresses.add(info.address);
    for (const l of this.listening) addresses.add(l.bound.host);
    this.ownAddresses = addresses;
  }
}

/** A refusal written on a raw socket before any request was parsed (no record). */
function rawAnswer(code: RefusalCode, reason: string): string {
  const answer = REFUSALS[code];
  return rawHttpError(answer.status, answer.statusText, reason, answer.proxyStatus);
}
