import type { Socket } from 'node:net';
import type { Agent } from 'undici';
import type { Credentials, NetworkSpec } from '../config/model.js';
import { DialError, type DialFailure } from '../errors.js';
import type { Backend, DialOptions, HttpRoute, Target, UdpChannel, UdpOptions } from './backend.js';
import { authority } from './http-connect.js';
import { socks5Greeting } from './socks5-greeting.js';
import { tcpConnect } from './tcp-connect.js';
import { createTunnelAgent, dialOrigin } from './tunnel-agent.js';
import { openSocks5Udp } from './udp-socks5-upstream.js';
import { loadSocks } from './socks-library.js';

/** Where the upstream SOCKS5 proxy is. */
export interface Socks5UpstreamOptions {
  name: string;
  type: 'socks5' | 'server';
  host: string;
  port: number;
  auth?: Credentials;
}

const REPLY_REASONS: Record<string, DialFailure> = {
  NotAllowed: 'not-allowed',
  NetworkUnreachable: 'unreachable',
  HostUnreachable: 'host-unreachable',
  ConnectionRefused: 'refused',
  TTLExpired: 'timeout',
};

/** An upstream SOCKS5 proxy (RFC 1928, with RFC 1929 username/password); the name is resolved by the upstream. */
export class Socks5Backend implements Backend {
  readonly name: string;
  readonly type: 'socks5' | 'server';
  private readonly upstream: string;
  private readonly agent: Agent;

  constructor(
    private readonly options: Socks5UpstreamOptions,
    private readonly network: NetworkSpec,
  ) {
    this.name = options.name;
    this.type = options.type;
    this.upstream = authority(options);
    this.agent = createTunnelAgent((target, opts) => this.dial(target, opts), network, () => ({ connectTimeoutMs: network.timeouts.connectMs }));
  }

  /** Connects to the upstream and asks it to connect to the target. */
  async dial(target: Target, options: DialOptions): Promise<Socket> {
    const socket = await this.connectUpstream(options.connectTimeoutMs);
    try {
      const { SocksClient } = await loadSocks();
      const { socket: tunnel } = await SocksClient.createConnection({
        proxy: { host: this.options.host, port: this.options.port, type: 5, userId: this.options.auth?.username, password: this.options.auth?.password },
        command: 'connect',
        destination: { host: target.host, port: target.port },
        timeout: options.connectTimeoutMs,
        existing_socket: socket,
      });
      return tunnel as Socket;
    } catch (error) {
      socket.destroy();
      throw this.toDialError(error as Error);
    }
  }

  /** A UDP flow through the upstream's own UDP ASSOCIATE (its control connection kept open); the upstream resolves names. */
  async openUdp(target: Target, options: UdpOptions): Promise<UdpChannel> {
    const control = await this.connectUpstream(options.timeoutMs);
    try {
      return await openSocks5Udp(control, { host: this.options.host, port: this.options.port, auth: this.options.auth }, target, options.timeoutMs);
    } catch (error) {
      control.destroy();
      throw this.toDialError(error as Error);
    }
  }

  /** Plain HTTP goes through a SOCKS tunnel to the origin, pooled per origin. */
  httpRoute(scheme: 'http:' | 'https:', target: Target, path: string): HttpRoute {
    return { dispatcher: this.agent, origin: `${scheme}//${authority(target)}`, path, headers: [] };
  }

  /** A fresh connection to the origin through a SOCKS tunnel. */
  openOrigin(scheme: 'http:' | 'https:', target: Target, options: DialOptions): Promise<Socket> {
    return dialOrigin((t, o) => this.dial(t, o), scheme, target, options);
  }

  /** A connection to the upstream that has greeted it (method selection only: no login, no target). */
  async openHop(timeoutMs: number): Promise<Socket> {
    const label = `upstream ${this.upstream}`;
    const socket = await tcpConnect({ host: this.options.host, port: this.options.port, timeoutMs, network: this.network, label });
    try {
      await socks5Greeting(socket, this.options.auth !== undefined, label, timeoutMs);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return socket;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The TCP connection to the upstream itself; a failure is the upstream's (or a timeout). */
  private async connectUpstream(timeoutMs: number): Promise<Socket> {
    try {
      return await tcpConnect({ host: this.options.host, port: this.options.port, timeoutMs, network: this.network, label: `upstream ${this.upstream}` });
    } catch (error) {
      const dialError = error as DialError;
      throw new DialError(dialError.reason === 'timeout' ? 'timeout' : 'upstream', dialError.message, error);
    }
  }

  private toDialError(error: Error): DialError {
    const message = error.message;
    const label = `upstream ${this.upstream}`;
    const rejected = /rejected connection - (\w+)/.exec(message);
    if (rejected) {
      return new DialError(REPLY_REASONS[rejected[1]] ?? 'failed', `${label}: target refused by upstream (${rejected[1]})`, error);
    }
    if (/Authentication failed|no accepted authentication type/i.test(message)) {
      return new DialError('upstream-auth', `${label}: SOCKS5 authentication failed`, error);
    }
    if (/timed out/i.test(message)) return new DialError('timeout', `${label}: no SOCKS5 answer in time`, error);
    return new DialError('upstream', `${label}: ${message}`, error);
  }
}
