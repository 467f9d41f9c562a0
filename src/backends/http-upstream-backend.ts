import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';
import { Pool, type Agent } from './undici-parts.js';
import type { Credentials, NetworkSpec } from '../config/model.js';
import { DialError } from '../errors.js';
import type { Backend, DialOptions, HttpRoute, Target } from './backend.js';
import { authority, basicAuth, httpConnect } from './http-connect.js';
import { tcpConnect } from './tcp-connect.js';
import { tlsHandshake } from './tls-handshake.js';
import { createTunnelAgent, dialOrigin } from './tunnel-agent.js';
import { checkUpstreamAuth } from './upstream-auth-check.js';

/** Where the upstream HTTP proxy is and how to reach it. */
export interface HttpUpstreamOptions {
  name: string;
  type: 'http' | 'server';
  host: string;
  port: number;
  auth?: Credentials;
  /** Speak TLS to the upstream (the client role's `https` server), verifying it with this CA. */
  tls?: { caFile?: string; servername?: string };
}

/**
 * An upstream HTTP proxy: tunnels with CONNECT (always on a fresh upstream connection), plain
 * HTTP by absolute-URI forwarding over pooled keep-alive connections.
 */
export class HttpUpstreamBackend implements Backend {
  readonly name: string;
  readonly type: 'http' | 'server';
  private readonly upstream: string;
  private readonly pool: Pool;
  private readonly forwarding: Dispatcher;
  private readonly tunnelAgent: Agent;
  private readonly authHeader: string[];

  constructor(
    private readonly options: HttpUpstreamOptions,
    private readonly network: NetworkSpec,
  ) {
    this.name = options.name;
    this.type = options.type;
    this.upstream = authority(options);
    this.authHeader = options.auth ? ['proxy-authorization', basicAuth(options.auth)] : [];
    const dialOptions = (): DialOptions => ({ connectTimeoutMs: network.timeouts.connectMs });
    this.pool = new Pool(`${options.tls ? 'https' : 'http'}://${this.upstream}`, {
      keepAliveTimeout: network.keepalive.maxIdleTimeMs,
      keepAliveMaxTimeout: network.keepalive.maxIdleTimeMs,
      headersTimeout: network.timeouts.readMs,
      bodyTimeout: network.timeouts.readMs,
      pipelining: 1,
      maxHeaderSize: network.maxHeaderSize,
      connect: (_options, callback) => {
        this.connectUpstream(dialOptions()).then(
          (socket) => callback(null, socket),
          (error: Error) => callback(error, null),
        );
      },
    });
    this.forwarding = checkUpstreamAuth(this.pool, this.upstream);
    this.tunnelAgent = createTunnelAgent((target, opts) => this.dial(target, opts), network, dialOptions);
  }

  /** Opens a fresh connection to the upstream and asks it for a CONNECT tunnel to the target. */
  async dial(target: Target, options: DialOptions): Promise<Socket> {
    const socket = await this.connectUpstream(options, options.relayOnly === true && !this.options.tls);
    return httpConnect(socket, target, this.options.auth, this.upstream, options.connectTimeoutMs);
  }

  /** Plain http: goes to the upstream in absolute form; https: origins go through a CONNECT tunnel. */
  httpRoute(scheme: 'http:' | 'https:', target: Target, path: string): HttpRoute {
    if (scheme === 'https:') {
      return { dispatcher: this.tunnelAgent, origin: `https://${authority(target)}`, path, headers: [] };
    }
    return { dispatcher: this.forwarding, origin: `http://${this.upstream}`, path: `http://${authority(target)}${path}`, headers: this.authHeader };
  }

  /** Plain http: a fresh connection to the upstream (the request goes in absolute form); https: a CONNECT tunnel to the origin. */
  openOrigin(scheme: 'http:' | 'https:', target: Target, options: DialOptions): Promise<Socket> {
    if (scheme === 'https:') return dialOrigin((t, o) => this.dial(t, o), scheme, target, options);
    return this.connectUpstream(options);
  }

  /** A connection to the upstream itself, TLS included. */
  openHop(timeoutMs: number): Promise<Socket> {
    return this.connectUpstream({ connectTimeoutMs: timeoutMs });
  }

  /** Closes pooled upstream connections. */
  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.tunnelAgent.close()]);
  }

  private async connectUpstream(options: DialOptions, relayOnly = false): Promise<Socket> {
    const label = `upstream ${this.upstream}`;
    let socket: Socket;
    try {
      socket = await tcpConnect({ host: this.options.host, port: this.options.port, timeoutMs: options.connectTimeoutMs, network: this.network, label, relayOnly });
    } catch (error) {
      const dialError = error as DialError;
      // The target was not even tried: every failure here is the upstream's.
      throw new DialError(dialError.reason === 'timeout' ? 'timeout' : 'upstream', dialError.message, error);
    }
    if (!this.options.tls) return socket;
    return this.startTls(socket, options.connectTimeoutMs);
  }

  private startTls(socket: Socket, timeoutMs: number): Promise<TLSSocket> {
    const { caFile, servername } = this.options.tls ?? {};
    let ca: Buffer | undefined;
    try {
      ca = caFile ? readFileSync(caFile) : undefined;
    } catch (error) {
      socket.destroy();
      return Promise.reject(new DialError('unavailable', `backend "${this.name}": cannot read CA file ${caFile}: ${(error as NodeJS.ErrnoException).code}`));
    }
    // SNI carries names only (RFC 6066); the certificate is checked against `host` when there is none.
    const name = servername ?? (isIP(this.options.host) ? undefined : this.options.host);
    return tlsHandshake(
      { socket, ca, host: this.options.host, servername: name },
      timeoutMs,
      () => new DialError('timeout', `upstream ${this.upstream}: TLS handshake timed out`),
      (error) => new DialError('upstream', `upstream ${this.upstream}: TLS failed: ${error.message}`, error),
    );
  }
}
