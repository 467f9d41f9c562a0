import type { FrontProtocol } from '../protocol/connection-record.js';

/** What refused a client: a rate-limit bucket, a connection limit, the IP lists, the open-relay guard, authentication, a request loop or a rule with `action: reject`. */
export type LimitScope = 'global' | 'ip' | 'user' | 'connections' | 'acl' | 'port' | 'private-target' | 'auth' | 'loop' | 'reject';

/**
 * One refusal by the traffic policy (engine event `limit:hit`, live event `limit:hit`). Metrics
 * count these by `scope`: `proxy_rate_limit_exceeded_total{by=scope}` for global, ip and user,
 * `proxy_policy_refusals_total{by=scope}` for the others.
 */
export interface LimitHit {
  scope: LimitScope;
  /** Client IP address. */
  client: string;
  /** Authenticated user, when there is one; for a failed login, the name it claimed. */
  user?: string;
  /** For scope `auth`: the authentication mode (`server.auth.mode`) that refused. */
  mode?: string;
  /** One line for a person: which limit or rule, and its setting. */
  reason: string;
  /** How the client came in (`http` also for a connection refused before its first request). */
  protocol: FrontProtocol;
  /** The requested target (`host:port`), when one was parsed. */
  target?: string;
  /** When (ms since epoch). */
  time: number;
}
