import { DialError } from '../../errors.js';
import type { ConnectionRecord } from '../../protocol/connection-record.js';
import { refusal, type Refusal } from '../../protocol/refusal.js';
import type { ProxyContext } from '../proxy-context.js';

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

/** The refusal for any error raised while dialing or while waiting for the origin's answer (non-DialErrors count as general failures). */
export function refusalFor(error: unknown): Refusal {
  if (error instanceof DialError) return refusal(error.reason, error.message);
  const message = (error as Error)?.message ?? String(error);
  // undici reports connect timeouts and its own socket errors with codes of its own.
  const code = (error as { code?: string })?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return refusal('timeout', message);
  if (code === 'EMFILE' || code === 'ENFILE') return refusal('no-descriptors', `the proxy is out of file descriptors (${code})`);
  // Connected, but the origin said nothing in time: not a connect timeout (RFC 9209 http_response_timeout).
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return refusal('response-timeout', 'no response from the origin within network.timeouts.read');
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return refusal('response-header-too-large', "the origin's response head is larger than network.max_header_size");
  if (code !== undefined && CERTIFICATE_CODES.has(code)) return refusal('tls-certificate', `the origin's TLS certificate is not trusted (${code}): ${message}`);
  if (code?.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || (error as Error)?.name === 'HTTPParserError') {
    return refusal('protocol', `the origin's response is not valid HTTP/1.1: ${message}`);
  }
  // A reload's close (reload.drain_timeout) names itself.
  if (code === 'backend-removed') return refusal('backend-removed', message);
  return refusal('failed', message);
}

/** The refusal for a failed dial of `record`'s request; a loop back to this proxy or a private target is also reported as a refusal of the policy, refused upstream credentials as a warning. */
export function dialRefusal(ctx: Pick<ProxyContext, 'policy' | 'credentialsRefused' | 'outOfDescriptors'>, record: ConnectionRecord, error: unknown): Refusal {
  const refused = refusalFor(error);
  if (refused.code === 'loop') ctx.policy().refusedLoop(record, refused.reason);
  if (refused.code === 'private-target') ctx.policy().refusedPrivate(record, refused.reason);
  if (refused.code === 'upstream-auth' && record.backend !== undefined) ctx.credentialsRefused(record.backend, refused.reason);
  if (refused.code === 'no-descriptors') ctx.outOfDescriptors();
  return refused;
}
