import type { Server, Socket } from 'node:net';
import type { z } from 'zod';
import type { ConfigSnapshot } from '../config/model.js';
import type { proxyProtocolSchema } from '../config/schema.js';
import { CidrSet } from './cidr-set.js';
import { setProxiedClient } from '../protocol/client-address.js';
import type { ProxyEndpoint } from '../protocol/proxy-header.js';
import { readProxyHeader } from '../protocol/proxy-header-reader.js';

/** `server.proxy_protocol:` as the file has it. */
export type ProxyProtocolConfig = z.infer<typeof proxyProtocolSchema>;

/** The gate `server.proxy_protocol` of a snapshot asks for (null: off, or the client role). */
export function proxyProtocolGate(config: ConfigSnapshot): ProxyProtocolGate | null {
  const server = config.role === 'server' ? (config.raw.server as { proxy_protocol?: ProxyProtocolConfig } | undefined) : undefined;
  return ProxyProtocolGate.of(server?.proxy_protocol);
}

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
    readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS, (reason, header) => {
      if (reason) return refuse(reason);
      admit(header!.command === 'proxy' ? header!.source : null);
    });
  }
}

/**
 * Puts the PROXY header ahead of everything a server does with a new connection: its own
 * 'connection' listeners (IP lists, limits, the HTTP or TLS machinery, a SOCKS5 front), as they
 * are when this is called, run once the gate (asked per connection: a reload may change it) has
 * named the client, recorded for `clientAddress`; or never, when it refused the connection, which
 * is closed after `warn` says why. For a TLS server, `tls.named` sees each connection a header
 * named a client for (the TLS socket the fronts get is another object).
 */
export function readProxyHeaderFirst(
  server: Server,
  gate: () => ProxyProtocolGate | null,
  warn: (message: string) => void,
  tls?: { named: (socket: Socket, client: ProxyEndpoint) => void },
): void {
  const accept = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const current = gate();
    if (current === null) {
      for (const listener of accept) listener.call(server, socket);
      return;
    }
    current.accept(
      socket,
      (client) => {
        if (client) {
          setProxiedClient(socket, client);
          tls?.named(socket, client);
        }
        for (const listener of accept) listener.call(server, socket);
        // The reader paused the socket. A TLS server reads it through its own handle (taking the
        // bytes put back first); resuming it here would hand those bytes to nobody.
        if (!tls) socket.resume();
      },
      (reason) => {
        warn(`PROXY protocol: closed a connection from ${socket.remoteAddress ?? '?'} on port ${socket.localPort ?? '?'}: ${reason}`);
        socket.destroy();
      },
    );
  });
}
