import { SocksReply } from './socks5-codes.js';

/**
 * Every reason the proxy refuses a request or tunnel. Each has one row in REFUSALS, which says how
 * it is answered in every protocol and how it is logged and counted.
 */
export type RefusalCode =
  // The request itself (the first three before any record: the HTTP parser refused it).
  | 'malformed'
  | 'request-timeout'
  | 'header-too-large'
  | 'bad-request'
  | 'via-loop'
  // Authentication (SOCKS5 answers these in its RFC 1929 sub-negotiation, before any request).
  | 'auth-required'
  | 'auth-failed'
  | 'auth-forbidden'
  | 'auth-throttled'
  | 'auth-unavailable'
  // The traffic policy and group ACLs.
  | 'connection-limit'
  | 'rate-limited'
  | 'port-not-allowed'
  | 'private-target'
  | 'acl-denied'
  | 'backend-limit'
  // Routing.
  | 'no-route'
  | 'rule-reject'
  | 'backend-unhealthy'
  | 'udp-unsupported'
  // The dial through the backend, or the origin's answer.
  | DialFailure
  | 'response-timeout'
  | 'response-header-too-large'
  | 'backend-removed'
  // A fault of the proxy itself.
  | 'internal';

/** Reasons a dial through a backend fails (a DialError's reason); `private-target` also names the policy's refusal before any dial. */
export type DialFailure =
  | 'timeout'
  | 'refused'
  | 'unreachable'
  | 'host-unreachable'
  | 'dns'
  | 'upstream'
  | 'upstream-auth'
  | 'not-allowed'
  | 'private-target'
  | 'protocol'
  | 'tls-certificate'
  | 'loop'
  | 'unavailable'
  | 'no-descriptors'
  | 'failed';

/** How one refusal code is answered and recorded. */
export interface RefusalAnswer {
  /** HTTP status and its reason phrase. */
  status: number;
  statusText: string;
  /** RFC 9209 `Proxy-Status` error type, where one fits. */
  proxyStatus: string | undefined;
  /** SOCKS5 reply code (RFC 1928 section 6). */
  socks: number;
  /** The record's `error` word: the access log, the debugger and the traffic view show it. */
  logReason: string;
  /** The `error` label of `proxy_connections_errors_total`. */
  metricLabel: string;
}

/** One refusal: its code, the line the client reads, and extra HTTP headers (a challenge, Retry-After). */
export interface Refusal {
  code: RefusalCode;
  /** One line for the client and the log. */
  reason: string;
  headers: Readonly<Record<string, string | number>> | undefined;
}

const row = (status: number, statusText: string, proxyStatus: string | undefined, socks: number, logReason: string): RefusalAnswer => ({
  status,
  statusText,
  proxyStatus,
  socks,
  logReason,
  metricLabel: logReason,
});

/** The one table of refusals: HTTP status and text, Proxy-Status, SOCKS5 reply, log reason and metric label per code. */
export const REFUSALS: Readonly<Record<RefusalCode, RefusalAnswer>> = {
  malformed: row(400, 'Bad Request', undefined, SocksReply.generalFailure, 'malformed'),
  'request-timeout': row(408, 'Request Timeout', undefined, SocksReply.generalFailure, 'request-timeout'),
  'header-too-large': row(431, 'Request Header Fields Too Large', 'http_request_error', SocksReply.generalFailure, 'header-too-large'),
  'bad-request': row(400, 'Bad Request', 'http_request_error', SocksReply.generalFailure, 'bad-request'),
  'via-loop': row(508, 'Loop Detected', 'proxy_loop_detected', SocksReply.notAllowed, 'loop'),
  'auth-required': row(407, 'Proxy Authentication Required', undefined, SocksReply.notAllowed, 'auth-required'),
  'auth-failed': row(407, 'Proxy Authentication Required', undefined, SocksReply.notAllowed, 'auth-failed'),
  'auth-forbidden': row(403, 'Forbidden', undefined, SocksReply.notAllowed, 'auth-forbidden'),
  'auth-throttled': row(429, 'Too Many Requests', undefined, SocksReply.notAllowed, 'auth-throttled'),
  'auth-unavailable': row(503, 'Service Unavailable', undefined, SocksReply.generalFailure, 'auth-unavailable'),
  'connection-limit': row(503, 'Service Unavailable', 'connection_limit_reached', SocksReply.notAllowed, 'connection-limit'),
  'rate-limited': row(429, 'Too Many Requests', undefined, SocksReply.notAllowed, 'rate-limited'),
  'port-not-allowed': row(403, 'Forbidden', 'http_request_denied', SocksReply.notAllowed, 'port-not-allowed'),
  'private-target': row(403, 'Forbidden', 'destination_ip_prohibited', SocksReply.notAllowed, 'private-target'),
  'acl-denied': row(403, 'Forbidden', 'http_request_denied', SocksReply.notAllowed, 'acl-denied'),
  'backend-limit': row(503, 'Service Unavailable', 'connection_limit_reached', SocksReply.generalFailure, 'backend-limit'),
  'no-route': row(403, 'Forbidden', 'destination_ip_prohibited', SocksReply.notAllowed, 'no-route'),
  'rule-reject': row(403, 'Forbidden', 'http_request_denied', SocksReply.notAllowed, 'rejected'),
  'backend-unhealthy': row(502, 'Bad Gateway', 'destination_unavailable', SocksReply.hostUnreachable, 'backend-unhealthy'),
  // A SOCKS5 UDP datagram routed to a backend that cannot carry UDP (an HTTP upstream).
  'udp-unsupported': row(502, 'Bad Gateway', 'destination_unavailable', SocksReply.commandNotSupported, 'udp-unsupported'),
  timeout: row(504, 'Gateway Timeout', 'connection_timeout', SocksReply.hostUnreachable, 'timeout'),
  'response-timeout': row(504, 'Gateway Timeout', 'http_response_timeout', SocksReply.hostUnreachable, 'timeout'),
  refused: row(502, 'Bad Gateway', 'connection_refused', SocksReply.connectionRefused, 'refused'),
  unreachable: row(502, 'Bad Gateway', 'destination_unavailable', SocksReply.networkUnreachable, 'unreachable'),
  'host-unreachable': row(502, 'Bad Gateway', 'destination_unavailable', SocksReply.hostUnreachable, 'host-unreachable'),
  dns: row(502, 'Bad Gateway', 'dns_error', SocksReply.hostUnreachable, 'dns'),
  upstream: row(502, 'Bad Gateway', 'proxy_internal_error', SocksReply.generalFailure, 'upstream'),
  'upstream-auth': row(502, 'Bad Gateway', 'proxy_internal_error', SocksReply.generalFailure, 'upstream-auth'),
  'not-allowed': row(403, 'Forbidden', 'destination_ip_prohibited', SocksReply.notAllowed, 'not-allowed'),
  loop: row(403, 'Forbidden', 'proxy_loop_detected', SocksReply.notAllowed, 'loop'),
  unavailable: row(502, 'Bad Gateway', 'destination_unavailable', SocksReply.generalFailure, 'unavailable'),
  protocol: row(502, 'Bad Gateway', 'http_protocol_error', SocksReply.generalFailure, 'protocol'),
  'tls-certificate': row(502, 'Bad Gateway', 'tls_certificate_error', SocksReply.generalFailure, 'tls-certificate'),
  'response-header-too-large': row(502, 'Bad Gateway', 'http_response_header_section_size', SocksReply.generalFailure, 'protocol'),
  // Out of file descriptors here: the proxy's own shortage, over once connections close.
  'no-descriptors': row(503, 'Service Unavailable', 'proxy_internal_error', SocksReply.generalFailure, 'no-descriptors'),
  failed: row(502, 'Bad Gateway', 'proxy_internal_error', SocksReply.generalFailure, 'failed'),
  'backend-removed': row(502, 'Bad Gateway', 'proxy_internal_error', SocksReply.generalFailure, 'backend-removed'),
  internal: row(500, 'Internal Server Error', undefined, SocksReply.generalFailure, 'internal'),
};

/** A refusal with its client-facing reason (and extra HTTP headers, if any). */
export function refusal(code: RefusalCode, reason: string, headers?: Readonly<Record<string, string | number>>): Refusal {
  return { code, reason, headers };
}

/** Why a request that already carries this proxy's Via token is refused. */
export const VIA_LOOP = 'request loops back to this proxy (it already passed through it)';
