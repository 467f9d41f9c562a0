/** How a connection entered the proxy. */
export type FrontProtocol = 'http' | 'connect' | 'upgrade' | 'socks5';

/**
 * One request or tunnel as the proxy saw it. Published when it ends (and, for
 * the debugger, when it starts); the access log, metrics, debugger and TUI read it.
 */
export interface ConnectionRecord {
  /** Short unique id (same in the REQ and RES lines of the debug log). */
  id: string;
  /** Start time, ms since epoch. */
  startedAt: number;
  protocol: FrontProtocol;
  clientAddress: string;
  clientPort: number;
  /** Authenticated user name, when auth is on. */
  user?: string;
  /** HTTP method, `CONNECT`, or `SOCKS5`. */
  method: string;
  host: string;
  port: number;
  /** Path and query for plain HTTP requests. */
  path?: string;
  /** The client's User-Agent and Referer headers (HTTP requests, CONNECT and upgrades), for the access log. */
  userAgent?: string;
  referer?: string;
  /** The rule that matched, and the backend that carried it. */
  rule?: string;
  backend?: string;
  /** HTTP status sent to the client (tunnels: 200 when established), or the SOCKS5 reply code. */
  status?: number;
  /** Bytes received from the client / sent to the client. */
  bytesIn: number;
  bytesOut: number;
  /** Time until the end of the exchange (ms); absent while it is still open. */
  durationMs?: number;
  /** Why it failed, when it failed: a short machine word (`timeout`, `refused`, `dns`, …). */
  error?: string;
  /** Request and response headers, when the debugger asked for them (masked by it). */
  requestHeaders?: Record<string, string | string[] | undefined>;
  responseHeaders?: Record<string, string | string[] | undefined>;
}
