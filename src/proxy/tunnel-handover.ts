import type { Socket } from 'node:net';
import type { Identity } from '../auth/identity.js';
import type { Target } from '../backends/backend.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';

/** An admitted, routed tunnel handed to the interception front instead of being relayed. */
export interface TunnelHandover {
  record: ConnectionRecord;
  client: Socket;
  /** Client bytes read with the tunnel's request (sent before the answer). */
  head: Buffer;
  target: Target;
  identity: Identity | undefined;
  /** Tells the client its tunnel is open (CONNECT 200, SOCKS5 success) and marks the record. */
  established(): void;
  /** Dials the target through the routed backend, for a tunnel left end to end. */
  dial(): Promise<Socket>;
}

/** What takes tunnels over (the interception front). */
export interface TunnelTaker {
  take(tunnel: TunnelHandover): void;
}
