import { DialError, type DialFailure } from '../errors.js';
import type { ConnectionRecord } from './connection-record.js';
import type { ProxyContext } from './proxy-context.js';

/** SOCKS5 reply codes (RFC 1928 section 6). */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/** How a failed dial is told to each kind of client. */
interface Refusal {
  status: number;
  /** RFC 9209 Proxy-Status error type. */
  proxyStatus: string;
  socks: number;
}

const REFUSALS: Record<DialFailure, Refusal> = {
  timeout: { status: 504, proxyStatus: 'connection_timeout', socks: SocksReply.hostUnreachable },
  refused: { status: 502, proxyStatus: 'connection_refused', socks: SocksReply.connectionRefused },
  unreachable: { status: 502, proxyStatus: 'destination_unavailable', socks: SocksReply.networkUnreachable },
  'host-unreachable': { status: 502, proxyStatus: 'destination_unavailable', socks: SocksReply.hostUnreachable },
  dns: { status: 502, proxyStatus: 'dns_error', socks: SocksReply.hostUnreachable },
  upstream: { status: 502, proxyStatus: 'proxy_internal_error', socks: SocksReply.generalFailure },
  'upstream-auth': { status: 502, proxyStatus: 'proxy_internal_error', socks: SocksReply.generalFailure },
  'not-allowed': { status: 403, proxyStatus: 'destination_ip_prohibited', socks: SocksReply.notAllowed },
  'private-target': { status: 403, proxyStatus: 'destination_ip_prohibited', socks: SocksReply.notAllowed },
  loop: { status: 403, proxyStatus: 'proxy_loop_detected', socks: SocksReply.notAllowed },
  unavailable: { status: 502, proxyStatus: 'destination_unavailable', socks: SocksReply.generalFailure },
  protocol: { status: 502, proxyStatus: 'http_protocol_error', socks: SocksReply.generalFailure },
  'tls-certificate': { status: 502, proxyStatus: 'tls_certificate_error', socks: SocksReply.generalFailure },
  failed: { status: 502, proxyStatus: 'proxy_internal_error', socks: SocksReply.generalFailure },
};

/** OpenSSL's and Node's codes for an origin certificate that failed verification (never accepted silently). */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** The refusal for any error raised while dialing (non-DialErrors count as general failures). */
export function refusalFor(error: unknown): Refusal & { reason: DialFailure; message: string } {
  if (error instanceof DialError) return { ...REFUSALS[error.reason], reason: error.reason, message: error.message };
  const message = (error as Error)?.message ?? String(error);
  // undici reports connect timeouts and its own socket errors with codes of its own.
  const code = (error as { code?: string })?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { ...REFUSALS.timeout, reason: 'timeout', message };
  // Connected, but the origin said nothing in time: not a connect timeout (RFC 9209 http_response_timeout).
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { ...REFUSALS.timeout, proxyStatus: 'http_response_timeout', reason: 'timeout', message: 'no response from the origin within network.timeouts.read' };
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    return { ...REFUSALS.protocol, proxyStatus: 'http_response_header_section_size', reason: 'protocol', message: 'the origin\'s response head is larger than network.max_header_size' };
  }
  if (code !== undefined && CERTIFICATE_CODES.has(code)) {
    return { ...REFUSALS['tls-certificate'], reason: 'tls-certificate', message: `the origin's TLS certificate is not trusted (${code}): ${message}` };
  }
  if (code?.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || (error as Error)?.name === 'HTTPParserError') {
    return { ...REFUSALS.protocol, reason: 'protocol', message: `the origin's response is not valid HTTP/1.1: ${message}` };
  }
  return { ...REFUSALS.failed, reason: 'failed', message };
}

/** The refusal for a failed dial of `record`'s request; a loop back to this proxy or a private target is also reported as a refusal of the policy, refused upstream credentials as a warning. */
export function dialRefusal(ctx: ProxyContext, record: ConnectionRecord, error: unknown): ReturnType<typeof refusalFor> {
  const refusal = refusalFor(error);
  if (refusal.reason === 'loop') ctx.policy().refusedLoop(record, refusal.message);
  if (refusal.reason === 'private-target') ctx.policy().refusedPrivate(record, refusal.message);
  if (refusal.reason === 'upstream-auth' && record.backend !== undefined) ctx.credentialsRefused(record.backend, refusal.message);
  return refusal;
}

/** A complete HTTP/1.1 error response with a one-line plain-text reason, for raw sockets. */
export function rawHttpError(status: number, statusText: string, reason: string, proxyStatus?: string, headers?: Record<string, string | number>): string {
  const body = `${reason}\n`;
  let extra = '';
  for (const [name, value] of Object.entries(headers ?? {})) extra += `${name}: ${value}\r\n`;
  return (
    `HTTP/1.1 ${status} ${statusText}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    (proxyStatus ? `Proxy-Status: simple-proxy; error=${proxyStatus}\r\n` : '') +
    extra +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Why a request that already carries this proxy's Via token is refused. */
export const VIA_LOOP = 'request loops back to this proxy (it already passed through it)';

/** How "every backend of the rule is unhealthy" is told: 502 / SOCKS5 host unreachable (0x04). */
export const UNHEALTHY_REFUSAL = { status: 502, proxyStatus: 'destination_unavailable', socks: SocksReply.hostUnreachable, reason: 'backend-unhealthy' } as const;
