import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Target } from '../backends/backend.js';
import type { ConfigSnapshot, ListenerSpec } from '../config/model.js';
import type { BoundListener } from '../engine/engine-api.js';
import { DialError } from '../errors.js';
import type { Policy } from '../policy/policy.js';
import { rawHttpError } from '../protocol/http-error.js';
import { REFUSALS, refusal, type RefusalCode } from '../protocol/refusal.js';
import { answerResponse } from './admission/answers.js';
import { handleConnect } from './connect-handler.js';
import type { ConnectionLedger } from './connection-ledger.js';
import { forwardHttpRequest } from './http-forward.js';
import type { ProxyContext } from './proxy-context.js';
import { handleSocks5 } from './socks5-handler.js';
import { refuseSocks5 } from './socks5-refusal.js';
import { readTlsMaterial } from './tls-material.js';
import { handleUpgrade } from './upgrade-handler.js';

/** What the listeners need from the engine. */
export interface ListenerContext {
  /** The fronts' context (config, admission, records). */
  readonly proxy: ProxyContext;
  readonly ledger: ConnectionLedger;
  /** The traffic policy new connections meet (IP lists and connection limits at accept). */
  policy(): Policy;
}

interface Listening {
  spec: ListenerSpec;
  server: NetServer | HttpServer;
  bound: BoundListener;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
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

  constructor(private readonly ctx: ListenerContext) {}

  /** Binds a listener per spec; binds none (closing those already bound) if any cannot be bound. */
  async start(config: ConfigSnapshot): Promise<BoundListener[]> {
    try {
      for (const spec of config.listeners) {
        const server = this.create(spec, config);
        const bound = await listen(server, spec);
        this.listening.push({ spec, server, bound });
      }
    } catch (error) {
      await Promise.all(this.listening.splice(0).map((l) => closeServer(l.server)));
      throw error;
    }
    this.refreshOwnAddresses();
    return this.bound();
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
    return () => {
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
      return createNetServer({ allowHalfOpen: true, noDelay: true, keepAlive: network.keepalive.enabled, keepAliveInitialDelay: network.keepalive.intervalMs }, (socket) => {
        if (!this.ctx.policy().allowsClient(socket.remoteAddress ?? '', 'socks5')) return socket.destroy();
        if (!this.admit(socket, 'socks5')) return this.refuseSocks5(socket);
        handleSocks5(proxy, socket, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
      });
    }
    const httpOptions = {
      noDelay: true,
      keepAlive: network.keepalive.enabled,
      keepAliveInitialDelay: network.keepalive.intervalMs,
      keepAliveTimeout: network.timeouts.idleMs,
      // Uploads and downloads may take long; the idle timeout below bounds silence instead.
      requestTimeout: 0,
      headersTimeout: HANDSHAKE_TIMEOUT_MS,
      maxHeaderSize: network.maxHeaderSize,
    };
    const server = spec.tls ? createHttpsServer({ ...httpOptions, ...readTlsMaterial(spec.tls) }) : createHttpServer(httpOptions);
    server.timeout = network.timeouts.idleMs;
    // The IP lists act on the raw connection, before TLS or HTTP parsing.
    server.on('connection', (socket: Socket) => {
      if (!this.ctx.policy().allowsClient(socket.remoteAddress ?? '', 'http')) socket.destroy();
    });
    server.on(spec.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (socket.destroyed) return;
      // As on the plain listener: a tunnel client's half-close must not close the way back.
      socket.allowHalfOpen = true;
      if (!this.admit(socket, 'http')) socket.end(rawAnswer('connection-limit', 'too many connections'));
    });
    server.on('request', (req, res) => {
      try {
        forwardHttpRequest(proxy, req, res);
      } catch (error) {
        answerResponse(res, null, refusal('internal', `internal error: ${(error as Error).message}`));
      }
    });
    server.on('connect', (req, socket: Socket, head: Buffer) => handleConnect(proxy, req, socket, head));
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
    return server;
  }

  /** Counts a new client connection; false when a connection limit (total or per IP) is reached. */
  private admit(socket: Socket, protocol: 'http' | 'socks5'): boolean {
    const ledger = this.ctx.ledger;
    const policy = this.ctx.policy();
    const max = this.ctx.proxy.runtime().config.network.limits.maxConnections;
    if (ledger.clients.size >= max) {
      policy.refusedByConnectionLimit(socket.remoteAddress ?? '', protocol, max);
      return false;
    }
    if (!policy.admitClient(socket, protocol)) return false;
    ledger.addClient(socket);
    return true;
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

function listen(server: NetServer | HttpServer, spec: ListenerSpec): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const why = error.code === 'EADDRINUSE' ? 'address already in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new Error(`cannot listen for ${spec.kind} on ${spec.host}:${spec.port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: spec.host, port: spec.port, backlog: 4096 }, () => {
      server.removeListener('error', onError);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : spec.port;
      resolve({ kind: spec.kind, host: spec.host, port, tls: spec.tls !== undefined });
    });
  });
}

/** Resolves once the server closed. */
function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
