import type { AclRequest, AuthService } from '../../auth/auth-service.js';
import type { Identity } from '../../auth/identity.js';
import type { DialOptions } from '../../backends/backend.js';
import { interceptedOrigin } from '../../mitm/intercepted-origin.js';
import type { Policy, RequestInfo } from '../../policy/policy.js';
import type { ConnectionRecord, FrontProtocol } from '../../protocol/connection-record.js';
import type { Refusal } from '../../protocol/refusal.js';
import type { RouteQuery } from '../../routing/route-query.js';
import type { Resolution, Runtime } from '../runtime.js';

/**
 * What a request asks for: a byte tunnel (CONNECT, SOCKS5 CONNECT), one HTTP request (plain, or
 * decrypted inside an intercepted tunnel), an upgrade (WebSocket), or datagrams (SOCKS5 UDP).
 */
export type RequestKind = 'tunnel' | 'http-request' | 'upgrade' | 'datagram';

/**
 * One request as a front parsed it, on its way through admission (see admit()). A front subclasses
 * it with what it needs to answer (its sockets, the parsed request) and implements the answers; the
 * pipeline fills in identity, route and dial options. One object per request: it is the route
 * query, the policy's request info and the dial options at once, so admission allocates nothing
 * more on its synchronous path.
 */
export abstract class AdmissionRequest implements RouteQuery, RequestInfo, AclRequest, DialOptions {
  /** The target; fronts set these from what they parsed. */
  host: string;
  port: number;
  readonly client: string;
  /** The authenticated user and their groups (set by the pipeline, or by a front whose handshake authenticates). */
  user: string | undefined = undefined;
  groups: readonly string[] | undefined = undefined;
  identity: Identity | undefined = undefined;
  /** The `Proxy-Authorization` value of an HTTP front. */
  authorization: string | undefined = undefined;
  /** The `Via` header, when the front checks it for a loop back to this proxy. */
  via: string | undefined = undefined;
  /**
   * Authentication and ACLs for this request: undefined lets the pipeline take the current ones; a
   * front that authenticated in its own handshake (SOCKS5) sets the ones it used, and `identity`.
   */
  auth: AuthService | null | undefined = undefined;
  /** True when the front's handshake already authenticated (or auth was off when it began). */
  authenticated = false;
  /** The proxy answers this request itself once it passed authentication and the request check (Max-Forwards: 0). */
  selfAddressed = false;
  /** The runtime and policy this request is held to (taken once, when admission begins). */
  runtime!: Runtime;
  policy!: Policy;
  /** Where it goes, once admitted. */
  resolution!: Extract<Resolution, { ok: true }>;
  /** Dial options, once admitted. */
  connectTimeoutMs = 0;
  relayOnly: boolean;
  refusePrivate = false;

  constructor(
    readonly kind: RequestKind,
    readonly protocol: FrontProtocol,
    readonly record: ConnectionRecord,
  ) {
    this.host = record.host;
    this.port = record.port;
    this.client = record.clientAddress;
    this.relayOnly = kind === 'tunnel';
  }

  /**
   * A request decrypted out of an intercepted tunnel carries no Proxy-Authorization: it is the
   * user who opened the tunnel (the interception front marked the decrypted socket with them).
   */
  asTunnelUser(socket: object | null | undefined): void {
    const identity = interceptedOrigin(socket)?.identity;
    if (identity === undefined) return;
    this.identity = identity;
    this.user = identity.user;
    this.groups = identity.groups;
    this.authenticated = true;
    this.record.user = identity.user;
  }

  /** Passed every check: `resolution` names the backend; the front dials and relays. */
  abstract admitted(): void;
  /** Refused: the front answers in its protocol (the table in protocol/refusal.ts says how) and ends the record. */
  abstract refused(refusal: Refusal): void;
  /** The IP address the client asked for, when `host` became the name sniffed from its first bytes. */
  sniffedFrom: string | undefined = undefined;

  /** True when the front reads the target's name from the client's first bytes before routing (see beforeRoute). */
  sniffsFirst(): boolean {
    return false;
  }

  /** Runs just before routing when sniffsFirst() said so, once the request passed authentication and the request check: the front sniffs the target's name here. */
  beforeRoute(route: () => void): void {
    route();
  }

  /** A self-addressed request: the front answers it as its recipient. */
  answerLocally(): void {
    throw new Error(`${this.protocol} requests are never self-addressed`);
  }
}
