import type { BackendSpec, NetworkSpec } from '../config/model.js';
import type { Backend } from './backend.js';
import { DirectBackend, type SocketGuard } from './direct-backend.js';
import { HttpUpstreamBackend } from './http-upstream-backend.js';
import { Socks5Backend } from './socks5-backend.js';
import { TunnelBackend } from './tunnel-backend.js';
import { UnavailableBackend } from './unavailable-backend.js';

/** What every backend shares: the network settings and the loop guard. */
export interface BackendContext {
  network: NetworkSpec;
  guard: SocketGuard;
}

/** Builds the runtime backend for a config entry. */
export function createBackend(spec: BackendSpec, context: BackendContext): Backend {
  if (spec.unavailable) return new UnavailableBackend(spec.name, spec.type, spec.unavailable);
  switch (spec.type) {
    case 'direct':
      return new DirectBackend(spec.name, context.network, context.guard);
    case 'http':
      return new HttpUpstreamBackend({ name: spec.name, type: 'http', host: spec.host, port: spec.port, auth: spec.auth }, context.network);
    case 'socks5':
      return new Socks5Backend({ name: spec.name, type: 'socks5', host: spec.host, port: spec.port, auth: spec.auth }, context.network);
    case 'server':
      if (spec.protocol === 'socks5') {
        return new Socks5Backend({ name: spec.name, type: 'server', host: spec.host, port: spec.port, auth: spec.auth }, context.network);
      }
      return new HttpUpstreamBackend(
        { name: spec.name, type: 'server', host: spec.host, port: spec.port, auth: spec.auth, tls: spec.protocol === 'https' ? spec.tls ?? {} : undefined },
        context.network,
      );
    case 'wireguard':
    case 'openvpn':
      if (!spec.tunnel) return new UnavailableBackend(spec.name, spec.type, `${spec.type} tunnels run only under the daemon (start it with the start command)`);
      return new TunnelBackend(spec.name, spec.type, spec.tunnel, context.network);
  }
}
