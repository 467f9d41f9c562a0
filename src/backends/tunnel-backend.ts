import type { Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { Agent } from 'undici';
import type { NetworkSpec } from '../config/model.js';
import { DialError } from '../errors.js';
import { NsDialer, NsDialFailure, type NsConnection } from '../tunnels/ns-dialer.js';
import { findProgram } from '../tunnels/host-support.js';
import { StatusReader, type TunnelStatus } from '../tunnels/tunnel-status.js';
import type { Backend, CommandPlace, DialOptions, HttpRoute, Target, UdpChannel, UdpOptions } from './backend.js';
import { toDialError } from './dial-errors.js';
import { isPrivateAddress, privateTargetError } from '../policy/private-target.js';
import { createTunnelAgent, dialOrigin } from './tunnel-agent.js';
import { socketChannel } from './udp-socket-channel.js';

/**
 * A WireGuard or OpenVPN backend as an engine process sees it: the daemon runs the tunnel in
 * its own namespace; this opens each connection inside that namespace (names resolved there with
 * the tunnel's DNS) and gets the connected socket back, so bytes flow with no relay process.
 */
export class TunnelBackend implements Backend {
  private readonly agent: Agent;
  private readonly dialer: NsDialer;
  private readonly status: StatusReader;

  constructor(
    readonly name: string,
    readonly type: 'wireguard' | 'openvpn',
    tunnel: { netns: string; statusFile: string },
    network: NetworkSpec,
  ) {
    this.dialer = new NsDialer(tunnel.netns, tunnel.statusFile);
    this.status = new StatusReader(tunnel.statusFile);
    this.agent = createTunnelAgent((target, options) => this.dial(target, options), network, () => ({ connectTimeoutMs: network.timeouts.connectMs }));
  }

  /** Opens a TCP connection through the tunnel; fails at once, with the reason, while the tunnel is not up. */
  async dial(target: Target, options: DialOptions): Promise<Socket> {
    const { socket } = await this.connect(target, options.connectTimeoutMs);
    // The name was resolved inside the tunnel's namespace: its answer is only known from the connected socket.
    const peer = socket.remoteAddress ?? '';
    if (options.refusePrivate && isPrivateAddress(peer)) {
      socket.destroy();
      throw privateTargetError(`${target.host} (${peer})`);
    }
    return socket;
  }

  /** Like dial, and also says how the target was reached (resolver, tunnel-side source address): for `backend test`. */
  async connect(target: Target, timeoutMs: number): Promise<NsConnection> {
    const label = `${target.host}:${target.port} through ${this.type} tunnel "${this.name}"`;
    this.requireUp();
    try {
      const connection = await this.dialer.dial(target.host, target.port, timeoutMs);
      connection.socket.setNoDelay(true);
      return connection;
    } catch (error) {
      throw dialFailure(error, label);
    }
  }

  /**
   * A UDP flow through the tunnel: the socket is created and connected inside the tunnel's
   * namespace (the name resolved there by the tunnel's DNS) and handed over; no process relays it.
   */
  async openUdp(target: Target, options: UdpOptions): Promise<UdpChannel> {
    this.requireUp();
    let opened: { socket: DgramSocket; address: string };
    try {
      opened = await this.dialer.openUdp(target.host, target.port, options.timeoutMs);
    } catch (error) {
      throw dialFailure(error, `UDP ${target.host}:${target.port} through ${this.type} tunnel "${this.name}"`);
    }
    if (options.refusePrivate && isPrivateAddress(opened.address)) {
      opened.socket.close();
      throw privateTargetError(`${target.host} (${opened.address})`);
    }
    // Connected here (routed by the namespace it was made in): only the destination's answers come in.
    try {
      await new Promise<void>((resolve, reject) => opened.socket.connect(target.port, opened.address, (error?: Error) => (error ? reject(error) : resolve())));
    } catch (error) {
      opened.socket.close();
      throw toDialError(error, `UDP ${target.host}:${target.port} through ${this.type} tunnel "${this.name}"`);
    }
    return socketChannel(opened.socket, opened.address);
  }

  /** Inside the tunnel's namespace (`ip netns exec NS`), with the name resolved there by the tunnel's DNS. */
  async commandPlace(host: string, timeoutMs: number): Promise<CommandPlace> {
    const { netns } = this.requireUp();
    try {
      const { address } = await this.dialer.resolve(host, timeoutMs);
      return { prefix: [findProgram('ip') ?? 'ip', 'netns', 'exec', netns], address };
    } catch (error) {
      throw dialFailure(error, `${host} through ${this.type} tunnel "${this.name}"`);
    }
  }

  /** The tunnel's status while it is up; otherwise fails at once, with the reason. */
  private requireUp(): TunnelStatus {
    const status = this.status.read();
    if (!status) throw new DialError('unavailable', `backend "${this.name}" (${this.type}): the tunnel is not running (is the daemon running it?)`);
    if (status.state !== 'up') throw new DialError('unavailable', `backend "${this.name}" (${this.type}): the tunnel is ${status.state === 'starting' ? 'not up yet' : status.state}${status.reason ? `: ${status.reason}` : ''}`);
    return status;
  }

  /** Plain HTTP through the tunnel, pooled per origin. */
  httpRoute(scheme: 'http:' | 'https:', target: Target, path: string): HttpRoute {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return { dispatcher: this.agent, origin: `${scheme}//${host}:${target.port}`, path, headers: [] };
  }

  /** A fresh connection to the origin through the tunnel. */
  openOrigin(scheme: 'http:' | 'https:', target: Target, options: DialOptions): Promise<Socket> {
    return dialOrigin((t, o) => this.dial(t, o), scheme, target, options);
  }

  /** Closes pooled connections and this process's dialer helper; the tunnel itself belongs to the daemon. */
  async close(): Promise<void> {
    this.dialer.close();
    await this.agent.close();
  }
}

/** A dialer failure as a DialError: a dead helper makes the backend unavailable; the rest keeps its errno's reason. */
function dialFailure(error: unknown, label: string): DialError {
  if (error instanceof NsDialFailure && error.code === 'EHELPER') return new DialError('unavailable', `${label}: ${error.message}`, error);
  return toDialError(error, label);
}
