import type { Socket } from 'node:net';
import type { ProxyEndpoint } from './proxy-header.js';

/** Clients named by a trusted balancer's PROXY header, per accepted socket (a TLS listener's socket too). */
const proxied = new WeakMap<Socket, ProxyEndpoint>();

/** Records the client a trusted PROXY header named for this connection. */
export function setProxiedClient(socket: Socket, client: ProxyEndpoint): void {
  proxied.set(socket, client);
}

/** The client a PROXY header named for this connection, if one did. */
export function proxiedClient(socket: Socket): ProxyEndpoint | undefined {
  return proxied.get(socket);
}

/** The client's address: the one a trusted balancer's PROXY header named, else the peer's. What every policy, log, record and metric uses. */
export function clientAddress(socket: Socket): string {
  return proxied.get(socket)?.address ?? socket.remoteAddress ?? '';
}

/** The client's port, as `clientAddress` chooses. */
export function clientPort(socket: Socket): number {
  return proxied.get(socket)?.port ?? socket.remotePort ?? 0;
}
