import type { Socket } from 'node:net';
import type { CaptureSettings, ConnectionRecord, FrontProtocol } from '../protocol/connection-record.js';
import type { AuthService } from '../auth/auth-service.js';
import type { Policy } from '../policy/policy.js';
import type { Runtime } from './runtime.js';
import type { TunnelTaker } from './tunnel-handover.js';
import type { UdpHub } from './udp/udp-hub.js';

/** What every front handler needs from the engine. */
export interface ProxyContext {
  /** The runtime new connections use (captured once per connection). */
  runtime(): Runtime;
  /** Starts a record for a request or tunnel (assigns id and start time). */
  begin(fields: RecordStart): ConnectionRecord;
  /** Notes the backend a record was routed to and publishes its start (a refusal before routing publishes only its end). */
  routed(record: ConnectionRecord, backend: string): void;
  /** Finishes a record (duration, counters) and publishes it. */
  end(record: ConnectionRecord): void;
  /** Keeps a tunnel's upstream socket known to the engine so a forced stop, or a reload that retires its backend, can close it. */
  track(socket: Socket, record: ConnectionRecord): void;
  /** Lets `connections list` read a request's or tunnel's bytes so far from its client socket (counters less the given bases). */
  meter(record: ConnectionRecord, client: Socket, inBase: number, outBase: number): void;
  /** Keeps a forwarded plain-HTTP request's abort known to the engine so a reload that retires its backend can end it. */
  cancellable(record: ConnectionRecord, abort: (error: Error) => void): void;
  /** True once a stop has begun: responses then close their client connections. */
  draining(): boolean;
  /** What the debugger wants kept of plain-HTTP exchanges, or null (the usual case: nothing). */
  capture(): CaptureSettings | null;
  /** The traffic policy new requests use (captured once per request). */
  policy(): Policy;
  /** Authentication and group ACLs new requests use, or null when `server.auth.mode` is "none". */
  auth(): AuthService | null;
  /** Tells the log that a backend's upstream refused its credentials (rate-limited per backend). */
  credentialsRefused(backend: string, message: string): void;
  /** A dial failed because this process is out of file descriptors (counted and logged, rate-limited). */
  outOfDescriptors(): void;
  /** The interception front when a tunnel to `host` may be intercepted now (debug.mitm; an IP target is decided by its SNI there), else null. */
  interceptor(host: string): TunnelTaker | null;
  /** The SOCKS5 UDP relay state of this engine process (associations, NAT entries, drop counters). */
  udp: UdpHub;
  /** This proxy's `Via` pseudonym (see via-token; set again once the listeners are bound); a request already carrying it has looped back to us. */
  viaToken: string;
}

/** The fields a handler knows when a record starts. */
export interface RecordStart {
  protocol: FrontProtocol;
  clientAddress: string;
  clientPort: number;
  method: string;
  host: string;
  port: number;
  path?: string;
  user?: string;
  userAgent?: string;
  referer?: string;
}
