import type { Socket } from 'node:net';
import { Agent } from './undici-parts.js';
import type { BackendType } from '../config/model.js';
import { DialError } from '../errors.js';
import type { Backend, CommandPlace, HttpRoute, Target, UdpChannel } from './backend.js';

/**
 * A backend that cannot carry traffic (a tunnel type this platform or build cannot bring up, or
 * a broken tunnel file). Every connection routed to it fails with the reason: never a silent
 * fallback to direct.
 */
export class UnavailableBackend implements Backend {
  private readonly agent: Agent;

  constructor(
    readonly name: string,
    readonly type: BackendType,
    private readonly reason: string,
  ) {
    this.agent = new Agent({ connect: (_options, callback) => callback(this.error(), null) });
  }

  /** Always rejects with the reason this backend is unavailable. */
  async dial(_target: Target): Promise<Socket> {
    throw this.error();
  }

  /** UDP fails the same way, with the reason (a tunnel that cannot come up would carry UDP once it does). */
  async openUdp(): Promise<UdpChannel> {
    throw this.error();
  }

  /** Always rejects with the reason: a ping must not go out from the host instead. */
  async commandPlace(): Promise<CommandPlace> {
    throw this.error();
  }

  /** A route whose dispatcher fails every request with the same reason. */
  httpRoute(scheme: 'http:' | 'https:', target: Target, path: string): HttpRoute {
    return { dispatcher: this.agent, origin: `${scheme}//${target.host}:${target.port}`, path, headers: [] };
  }

  /** Always rejects with the reason this backend is unavailable. */
  async openOrigin(): Promise<Socket> {
    throw this.error();
  }

  /** Nothing to close but the failing agent. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private error(): DialError {
    return new DialError('unavailable', `backend "${this.name}" (${this.type}) is unavailable: ${this.reason}`);
  }
}
