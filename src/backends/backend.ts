import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { BackendType } from '../config/model.js';

/** Where a connection wants to go. */
export interface Target {
  host: string;
  port: number;
}

/** Per-dial settings taken from the snapshot the connection started with. */
export interface DialOptions {
  connectTimeoutMs: number;
  /** The caller will only relay the socket's bytes (a backend may then read it in bulk, emitting no 'data' events). */
  relayOnly?: boolean;
  /** Refuse loopback and link-local targets (a client outside trusted_clients): on the address dialled, before connecting. */
  refusePrivate?: boolean;
}

/** Per-flow settings of a UDP flow (SOCKS5 UDP ASSOCIATE). */
export interface UdpOptions {
  /** Time allowed to resolve the name and set the flow up (an upstream's UDP ASSOCIATE included). */
  timeoutMs: number;
  /** Refuse loopback and link-local destinations (a client outside trusted_clients), checked on the address datagrams go to. */
  refusePrivate?: boolean;
}

/**
 * One UDP flow through a backend: datagrams to one destination and what comes back from it. The
 * backend resolves the destination's name with its own resolver (inside the tunnel for tunnels).
 */
export interface UdpChannel {
  /** Where datagrams go, as the backend resolved it (the name itself when an upstream resolves it). */
  readonly remoteAddress: string;
  /** Sends one datagram's payload to the destination (fire and forget, as UDP is). */
  send(payload: Buffer): void;
  /** Receives each datagram that comes back, with the address and port it came from. */
  onReply: (payload: Buffer, address: string, port: number) => void;
  /** Called once if the channel dies on its own (an upstream's control connection closed). */
  onClose: (reason: string) => void;
  /** Closes the flow's socket (and an upstream's association). */
  close(): void;
}

/** How a plain-HTTP request is sent through a backend: which pool, to which origin, with which request target. */
export interface HttpRoute {
  dispatcher: Dispatcher;
  /** Origin the dispatcher connects to (`http://host:port`): the target itself, or the upstream proxy. */
  origin: string;
  /** Request target: origin-form (`/path?q`) to an origin, absolute-form (`http://host/path`) to an upstream proxy. */
  path: string;
  /** Extra request headers the backend adds (upstream credentials), as a flat name/value list. */
  headers: string[];
}

/** Where a program runs to go through a backend: the prefix of its command line and the address to use. */
export interface CommandPlace {
  prefix: string[];
  address: string;
}

/**
 * A backend carries connections to targets: tunnels through `dial`, plain HTTP requests through
 * a pooled dispatcher from `httpRoute`. One interface for direct, upstream proxies and tunnels.
 */
export interface Backend {
  readonly name: string;
  readonly type: BackendType;
  /** Opens a TCP stream to the target through this backend. Rejects with a DialError. */
  dial(target: Target, options: DialOptions): Promise<Socket>;
  /**
   * How to send a plain HTTP request for `target` (scheme `http:` or `https:`) with origin-form
   * `path`; `refusePrivate` picks a pool whose connections refuse loopback and link-local
   * addresses where this host dials them (never shared with a pool that does not).
   */
  httpRoute(scheme: 'http:' | 'https:', target: Target, path: string, refusePrivate?: boolean): HttpRoute;
  /**
   * Opens a fresh connection to the place `httpRoute` sends the request to (the origin, or the
   * upstream proxy for plain http), with TLS for an `https:` origin: for a request the pool
   * cannot carry (one that waits for 100 Continue). Rejects with a DialError.
   */
  openOrigin(scheme: 'http:' | 'https:', target: Target, options: DialOptions): Promise<Socket>;
  /**
   * Opens a connection to the backend's own first hop (the upstream proxy, with TLS or the SOCKS5
   * greeting) and goes no further: the client's light check of its server. Absent where there is
   * no such hop.
   */
  openHop?(timeoutMs: number): Promise<Socket>;
  /**
   * Where a program that reaches `host` by itself (ping) must run for its packets to go through
   * this backend: a command prefix and the address to give it, resolved as this backend resolves
   * names. Absent: on the host, with the name as it is.
   */
  commandPlace?(host: string, timeoutMs: number): Promise<CommandPlace>;
  /** Opens a UDP flow to the target (rejects with a DialError); absent when this backend cannot carry UDP (an HTTP upstream). */
  openUdp?(target: Target, options: UdpOptions): Promise<UdpChannel>;
  /** Closes pooled connections; open tunnels are not touched. */
  close(): Promise<void>;
}
