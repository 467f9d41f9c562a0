import type { Socket } from 'node:net';
import type { Agent } from 'undici';
import type { NetworkSpec } from '../config/model.js';
import type { Backend, DialOptions, HttpRoute, Target, UdpChannel, UdpOptions } from './backend.js';
import { tcpConnect } from './tcp-connect.js';
import { createTunnelAgent, dialOrigin } from './tunnel-agent.js';
import { openDirectUdp } from './udp-direct.js';

/** Checks a freshly connected socket before it is used (for example: it must not loop back to this proxy). */
export type SocketGuard = (socket: Socket, target: Target) => void;

/** Connects straight to the target from this host. */
export class DirectBackend implements Backend {
  readonly type = 'direct' as const;
  private readonly agent: Agent;
  /** The pool for clients outside trusted_clients: its connections refuse private addresses. */
  private readonly guardedAgent: Agent;

  constructor(
    readonly name: string,
    private readonly network: NetworkSpec,
    private readonly guard: SocketGuard,
  ) {
    const dial: Backend['dial'] = (target, options) => this.dial(target, options);
    this.agent = createTunnelAgent(dial, network, () => ({ connectTimeoutMs: network.timeouts.connectMs }));
    this.guardedAgent = createTunnelAgent(dial, network, () => ({ connectTimeoutMs: network.timeouts.connectMs, refusePrivate: true }));
  }

  /** Opens a TCP connection to the target. */
  async dial(target: Target, options: DialOptions): Promise<Socket> {
    const socket = await tcpConnect({ host: target.host, port: target.port, timeoutMs: options.connectTimeoutMs, network: this.network, relayOnly: options.relayOnly, refusePrivate: options.refusePrivate });
    try {
      this.guard(socket, target);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return socket;
  }

  /** Sends UDP from this host (dual stack, names resolved by the host's resolver). */
  openUdp(target: Target, options: UdpOptions): Promise<UdpChannel> {
    return openDirectUdp(target, options, this.network);
  }

  /** Plain HTTP goes to the origin itself, pooled per origin. */
  httpRoute(scheme: 'http:' | 'https:', target: Target, path: string, refusePrivate = false): HttpRoute {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return { dispatcher: refusePrivate ? this.guardedAgent : this.agent, origin: `${scheme}//${host}:${target.port}`, path, headers: [] };
  }

  /** A fresh connection to the origin itself. */
  openOrigin(scheme: 'http:' | 'https:', target: Target, options: DialOptions): Promise<Socket> {
    return dialOrigin((t, o) => this.dial(t, o), scheme, target, options);
  }

  /** Closes idle pooled connections. */
  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.guardedAgent.close()]);
  }
}
