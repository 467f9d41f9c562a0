import type { ServerResponse } from 'node:http';
import { SocksReply } from '../proxy/refusals.js';
import type { LimitScope } from './limit-hit.js';

/** A request the traffic policy refuses, with each protocol's answer. */
export interface Denial {
  scope: LimitScope;
  /** One line for the client and the log. */
  reason: string;
  /** The record's `error` word: `rate-limited`, `port-not-allowed`, `private-target`, `backend-limit`. */
  error: string;
  status: number;
  statusText: string;
  /** RFC 9209 Proxy-Status error type, where one fits. */
  proxyStatus?: string;
  /** SOCKS5 reply code. */
  socks: number;
  /** Seconds until a retry may pass (rate limits). */
  retryAfterS?: number;
}

/** A rate-limit refusal: 429 with Retry-After, SOCKS5 "not allowed by ruleset". */
export function rateDenial(scope: LimitScope, reason: string, retryAfterMs: number): Denial {
  return { scope, reason, error: 'rate-limited', status: 429, statusText: 'Too Many Requests', socks: SocksReply.notAllowed, retryAfterS: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}

/** A refusal by the open-relay guard (port list, private target): 403, SOCKS5 "not allowed by ruleset". */
export function guardDenial(scope: 'port' | 'private-target', reason: string): Denial {
  return {
    scope,
    reason,
    error: scope === 'port' ? 'port-not-allowed' : 'private-target',
    status: 403,
    statusText: 'Forbidden',
    proxyStatus: scope === 'port' ? 'http_request_denied' : 'destination_ip_prohibited',
    socks: SocksReply.notAllowed,
  };
}

/** A per-backend connection limit: 503, SOCKS5 general failure. */
export function backendDenial(reason: string): Denial {
  return { scope: 'connections', reason, error: 'backend-limit', status: 503, statusText: 'Service Unavailable', proxyStatus: 'connection_limit_reached', socks: SocksReply.generalFailure };
}

/** Sets the headers a denial adds to an HTTP response (before it is sent). */
export function setDenialHeaders(res: ServerResponse, denial: Denial): void {
  if (denial.retryAfterS !== undefined) res.setHeader('retry-after', denial.retryAfterS);
}
