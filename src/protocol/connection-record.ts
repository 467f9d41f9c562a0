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
  requestHeaders?: HeaderList;
  responseHeaders?: HeaderList;
  /** The first bytes of plain-HTTP bodies, when the debugger asked for them. */
  requestBody?: CapturedBody;
  responseBody?: CapturedBody;
}

/** Headers as sent, in order: `[name, value, name, value, …]`. */
export type HeaderList = string[];

/** The start of a message body: UTF-8 text when it decodes as such, base64 otherwise. */
export interface CapturedBody {
  text: string;
  encoding: 'utf8' | 'base64';
  /** Bytes seen in total (the text holds at most the capture limit). */
  size: number;
  truncated: boolean;
}

/** What the debugger wants handlers to keep beyond the metadata (plain HTTP only). */
export interface CaptureSettings {
  headers: boolean;
  /** Body bytes to keep per direction; 0 for none. */
  bodyBytes: number;
}
