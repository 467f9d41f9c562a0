/** How a connection entered the proxy. */
export type FrontProtocol = 'http' | 'connect' | 'upgrade' | 'socks5' | 'udp';

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
  /** For an IP-literal target with sniffing on: the name its first bytes carried (TLS SNI or HTTP Host), which it was routed by. */
  sniffedHost?: string;
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
  /** For a SOCKS5 UDP association (protocol `udp`): its datagrams and destinations. */
  udp?: UdpTally;
  /** Request and response headers, when the debugger asked for them (masked by it). */
  requestHeaders?: HeaderList;
  responseHeaders?: HeaderList;
  /** The first bytes of plain-HTTP bodies, when the debugger asked for them. */
  requestBody?: CapturedBody;
  responseBody?: CapturedBody;
  /**
   * Phases measured (ms): resolving the target's name and dialling it through the backend (a
   * tunnel's dial, or the pooled connection opened for a request the debugger looks into), TLS
   * (a tunnel: the client's handshake with the interception front; a request: the handshake with
   * the origin on that new connection), the wait for the response head and its body (requests).
   */
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
  waitMs?: number;
  receiveMs?: number;
  /** What is known of the TLS inside a tunnel, or around a request decrypted by interception. */
  tls?: TlsInfo;
}

/**
 * Whether a record is a request read out of an intercepted tunnel: its bytes travelled inside the
 * tunnel's, so totals of bytes on the wire (metrics, throughput) count the tunnel's only.
 */
export function insideTunnel(record: ConnectionRecord): boolean {
  return record.tls?.decrypted === true && (record.protocol === 'http' || record.protocol === 'upgrade');
}

/** A tunnel's TLS as the interception front saw it, or the decrypted request's. */
export interface TlsInfo {
  /** True for a request read out of an intercepted tunnel, and for a tunnel whose requests were. */
  decrypted: boolean;
  /** The server name the client asked for (SNI). */
  sni?: string;
  /** The protocols the client offered (ALPN), and the one chosen when we answered its handshake. */
  alpnOffered?: string[];
  alpn?: string;
}

/** Why a UDP datagram was dropped: the label values of `proxy_udp_dropped_total`. */
export type UdpDropReason = 'truncated' | 'fragmented' | 'address-type' | 'stranger' | 'refused' | 'pending' | 'bandwidth';

/** What one UDP association carried (bytes are in bytesIn/bytesOut: payload bytes, headers not counted). */
export interface UdpTally {
  /** Datagrams from the client relayed on / relayed back to the client. */
  datagramsIn: number;
  datagramsOut: number;
  /** Datagrams dropped (malformed, fragmented, from a stranger, to a refused destination, over a limit). */
  dropped: number;
  /** Destinations (`host:port`) in the order first used, at most 16 listed. */
  destinations: string[];
  /** Destinations used in all (also those past the listed 16). */
  destinationCount: number;
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
