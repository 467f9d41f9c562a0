import type { Socket } from 'node:net';
import type { z } from 'zod';
import type { proxyProtocolSchema } from '../config/schema.js';
import { CidrSet } from '../policy/cidr-set.js';
import type { ProxyEndpoint } from '../protocol/proxy-header.js';
import { readProxyHeader } from '../protocol/proxy-header-reader.js';

/** `server.proxy_protocol:` as the file has it. */
export type ProxyProtocolConfig = z.infer<typeof proxyProtocolSchema>;

/** How long a trusted balancer may take to send its header: it sends it with the connection. */
export const PROXY_HEADER_TIMEOUT_MS = 5_000;

/** Who may send a PROXY header, or null when the listeners take none. */
export class ProxyProtocolGate {
  private readonly trusted: CidrSet;

  private constructor(trusted: readonly string[]) {
    this.trusted = new CidrSet(trusted);
  }

  /** The gate of a config section; null when absent or disabled (then no connection is read ahead). */
  static of(config: ProxyProtocolConfig | undefined): ProxyProtocolGate | null {
    return config?.enabled ? new ProxyProtocolGate(config.trusted) : null;
  }

  /**
   * Decides a fresh connection's client. From a trusted balancer the header is required: `admit`
   * gets the client it names (null for a LOCAL header, the balancer's own check), and a missing or
   * malformed header goes to `refuse` with the reason (the caller logs it and closes). From any
   * other peer nothing is read ahead and `admit(null)` runs at once: its own address is the client,
   * and a PROXY header it sends is only bytes the front refuses as malformed, never believed.
   */
  accept(socket: Socket, admit: (client: ProxyEndpoint | null) => void, refuse: (reason: string) => void): void {
    if (!this.trusted.has(socket.remoteAddress ?? '')) return admit(null);
    readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS, (error, header) => {
      if (error) return refuse(error.message);
      admit(header!.command === 'proxy' ? header!.source : null);
      socket.resume();
    });
  }
}
