import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { TlsClientHelloMessage } from 'read-tls-client-hello';
import type { TlsInfo } from '../protocol/connection-record.js';
import { REFUSALS, refusal } from '../protocol/refusal.js';
import { isIpLiteral, normalizeHost } from '../routing/domain-pattern.js';
import { CountedRequest, Http1StyleResponse, asHttp1 } from '../mitm/h2-compat.js';
import { interceptedOrigin, markIntercepted } from '../mitm/intercepted-origin.js';
import type { Interception } from '../mitm/interception.js';
import { answerResponse } from './admission/answers.js';
import { dialRefusal } from './admission/dial-refusal.js';
import { forwardHttpRequest } from './http-forward.js';
import type { ProxyContext } from './proxy-context.js';
import type { TunnelHandover, TunnelTaker } from './tunnel-handover.js';
import { relayTunnel } from './tunnel-relay.js';
import { handleUpgrade } from './upgrade-handler.js';

/** How long a client has, after its tunnel opened, to finish the TLS handshake with us. */
const HANDSHAKE_MS = 10_000;
const SNI = 0;
const ALPN = 16;

type HelloReader = typeof import('read-tls-client-hello');
let helloReader: Promise<HelloReader> | null = null;
/** The ClientHello parser, loaded with the first intercepted tunnel: an engine that never intercepts does not carry it. */
const loadHelloReader = (): Promise<HelloReader> => (helloReader ??= import('read-tls-client-hello'));

/**
 * The interception front. It answers the tunnel, reads the client's TLS ClientHello (SNI names
 * the host when the target is an IP), and either relays the tunnel end to end (not listed,
 * ignored, passed through after failures, not TLS, no HTTP offered) or answers the handshake
 * itself with a leaf for the host (ALPN h2 or http/1.1) and feeds the decrypted requests to the
 * same forwarder plain HTTP uses, as `https://host:port/…` requests: policy, routing, limits,
 * records and the debugger apply to each, and the backend the rules choose carries it over TLS
 * verified against the system store (plus debug.mitm.upstream_ca_file). WebSocket upgrades go to
 * the same upgrade relay as plain ones.
 */
export class InterceptFront implements TunnelTaker {
  private readonly h1: HttpServer;
  private readonly h2: Http2Server;
  /** The forwarder's context, with records marked as decrypted. */
  private readonly inner: ProxyContext;
  /** The TLS facts of the request being started (begin runs synchronously inside the forwarder). */
  private starting: TlsInfo | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly interception: Interception,
  ) {
    const inner = Object.create(ctx) as ProxyContext;
    inner.begin = (fields) => {
      const record = ctx.begin(fields);
      record.tls = this.starting;
      return record;
    };
    this.inner = inner;
    const network = ctx.runtime().config.network;
    this.h1 = createHttpServer({ requestTimeout: 0, headersTimeout: HANDSHAKE_MS, keepAliveTimeout: network.timeouts.idleMs, maxHeaderSize: network.maxHeaderSize });
    this.h1.timeout = network.timeouts.idleMs;
    this.h1.on('request', (req, res) => this.request(req, res));
    this.h1.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const origin = interceptedOrigin(socket);
      if (!origin || !req.url?.startsWith('/')) return socket.destroy();
      req.url = originUrl(origin, req.url);
      this.starting = origin.tls;
      handleUpgrade(this.inner, req, socket, head);
      this.starting = undefined;
    });
    this.h2 = createHttp2Server({ Http2ServerRequest: CountedRequest, Http2ServerResponse: Http1StyleResponse as unknown as typeof Http2ServerResponse, maxHeaderListPairs: 256 });
    this.h2.setTimeout(network.timeouts.idleMs);
    const h2Request = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
      const origin = interceptedOrigin(req.socket);
      if (!origin) return void res.destroy();
      asHttp1(req, res, origin.socket);
      this.request(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    };
    this.h2.on('request', h2Request);
    // Heard, Node would answer 100 itself: the forwarder waits for the origin's 100 (or final answer) instead, as over HTTP/1.1.
    this.h2.on('checkContinue', h2Request);
  }

  /** Takes over a tunnel: answers it and either intercepts it or relays it end to end. */
  take(tunnel: TunnelHandover): void {
    const { client, record } = tunnel;
    client.on('error', () => client.destroy());
    tunnel.established();
    if (tunnel.head.length > 0) client.unshift(tunnel.head);
    const timer = setTimeout(() => {
      record.error ??= 'tls-handshake-timeout';
      client.destroy();
    }, HANDSHAKE_MS);
    loadHelloReader().then(async (reader) => ({ reader, hello: await reader.readTlsClientHello(client) })).then(
      ({ reader, hello }) => this.decide(tunnel, reader, hello, timer),
      () => {
        clearTimeout(timer);
        this.passThrough(tunnel);
      },
    );
  }

  private decide(tunnel: TunnelHandover, { getExtensionData }: HelloReader, hello: TlsClientHelloMessage, timer: NodeJS.Timeout): void {
    const { target, record } = tunnel;
    const sni = getExtensionData(hello, SNI)?.serverName as string | undefined;
    const offered = getExtensionData(hello, ALPN)?.protocols as string[] | undefined;
    const host = sni !== undefined && isIpLiteral(normalizeHost(target.host)) ? sni : target.host;
    record.tls = { decrypted: false, ...(sni !== undefined ? { sni } : {}), ...(offered ? { alpnOffered: offered } : {}) };
    const speaksHttp = offered === undefined || offered.includes('h2') || offered.includes('http/1.1');
    if (!speaksHttp || !this.interception.wants(host)) {
      clearTimeout(timer);
      return this.passThrough(tunnel);
    }
    this.interception.context(host).then(
      (context) => this.terminate(tunnel, host, context, offered, timer),
      (error: Error) => {
        clearTimeout(timer);
        record.error = 'certificate-mint-failed';
        this.interception.failed(`cannot sign a certificate for ${host}: ${error.message}`);
        tunnel.client.destroy();
      },
    );
  }

  /** Answers the client's handshake with our leaf and hands the decrypted connection to the HTTP/1.1 or HTTP/2 server. */
  private terminate(tunnel: TunnelHandover, host: string, secureContext: SecureContext, offered: string[] | undefined, timer: NodeJS.Timeout): void {
    const { client, record, target } = tunnel;
    if (client.destroyed) {
      clearTimeout(timer);
      return;
    }
    // Read live like any tunnel: the client socket's counters, which the record gets when it ends.
    this.ctx.meter(record, client, 0, 0);
    const secure = new TLSSocket(client, { isServer: true, secureContext, ALPNProtocols: offered?.includes('h2') ? ['h2', 'http/1.1'] : ['http/1.1'] });
    // The listener's half-open habit is for tunnels; a decrypted connection the client ended is over (HTTP/2 would wait for its idle timeout).
    secure.allowHalfOpen = false;
    let established = false;
    const handshakeStarted = Date.now();
    const refused = (why: string): void => {
      if (established) return;
      established = true;
      clearTimeout(timer);
      record.error ??= 'client-rejected-certificate';
      this.interception.rejected(host, why);
      client.destroy();
    };
    secure.once('error', (error: NodeJS.ErrnoException) => refused(error.code ?? error.message));
    secure.once('close', () => {
      refused('closed during the handshake');
      record.bytesIn = client.bytesRead;
      record.bytesOut = client.bytesWritten;
      this.ctx.end(record);
    });
    secure.once('secure', () => {
      if (established) return;
      established = true;
      clearTimeout(timer);
      record.tlsMs = Date.now() - handshakeStarted;
      secure.on('error', () => secure.destroy());
      this.interception.opened(host);
      const alpn = secure.alpnProtocol || undefined;
      record.tls = { ...record.tls, decrypted: true, ...(alpn ? { alpn } : {}) };
      markIntercepted(secure, { socket: secure, host, port: target.port, identity: tunnel.identity, tls: { decrypted: true, ...(record.tls?.sni !== undefined ? { sni: record.tls.sni } : {}), ...(alpn ? { alpn } : {}) } });
      // A server-side socket made outside a tls.Server keeps saying it is connecting, and the HTTP/2 session would wait for it forever.
      (secure as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      (alpn === 'h2' ? this.h2 : this.h1).emit('connection', secure);
    });
  }

  /** Relays a tunnel end to end, as without interception (its ClientHello is read again by the origin). */
  private passThrough(tunnel: TunnelHandover): void {
    const { client, record } = tunnel;
    if (client.destroyed || client.readableEnded) {
      record.error ??= 'client-closed';
      client.destroy();
      return this.ctx.end(record);
    }
    this.interception.passed();
    tunnel.dial().then(
      (upstream) => {
        if (client.destroyed) {
          upstream.destroy();
          record.error ??= 'client-closed';
          return this.ctx.end(record);
        }
        this.ctx.track(upstream, record);
        relayTunnel(this.ctx, record, client, upstream, this.ctx.runtime().config.network.timeouts.idleMs, client.readableLength);
      },
      (error: unknown) => {
        // The tunnel was answered already: all that is left is to close it, naming the reason.
        record.error = REFUSALS[dialRefusal(this.ctx, record, error).code].logReason;
        client.destroy();
        this.ctx.end(record);
      },
    );
  }

  /** One decrypted request: to the forwarder, as an absolute `https://` request. */
  private request(req: IncomingMessage, res: ServerResponse): void {
    const origin = interceptedOrigin(req.socket);
    if (!origin) return void res.destroy();
    if (!req.url?.startsWith('/')) return answerResponse(res, null, refusal('bad-request', 'inside an intercepted tunnel the request target must be a path (origin-form)'));
    req.url = originUrl(origin, req.url);
    this.starting = origin.tls;
    try {
      forwardHttpRequest(this.inner, req, res);
    } catch (error) {
      answerResponse(res, null, refusal('internal', `internal error: ${(error as Error).message}`));
    } finally {
      this.starting = undefined;
    }
  }
}

/** `https://host[:port]/path` for a decrypted request's origin-form target. */
function originUrl(origin: { host: string; port: number }, path: string): string {
  const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
  return `https://${host}${origin.port === 443 ? '' : `:${origin.port}`}${path}`;
}

/** Decides per tunnel whether it may be intercepted, and makes the one interception front on first use. */
export class InterceptDoor {
  private made: InterceptFront | null = null;

  constructor(
    private readonly context: ProxyContext,
    private readonly interception: Interception,
  ) {}

  /** The interception front when a tunnel to `host` may be intercepted now (null: it tunnels as is); an IP target is decided by its SNI. */
  front(host: string): InterceptFront | null {
    if (!this.interception.active) return null;
    if (!isIpLiteral(normalizeHost(host)) && !this.interception.wants(host)) {
      this.interception.passed();
      return null;
    }
    this.made ??= new InterceptFront(this.context, this.interception);
    return this.made;
  }
}
