import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { REFUSALS, refusal, type RefusalCode } from '../../../src/protocol/refusal.js';
import { SocksReply } from '../../../src/protocol/socks5-codes.js';

/** RFC 9209 section 2.3 error types. */
const PROXY_STATUS_TYPES = new Set([
  'dns_timeout', 'dns_error', 'destination_not_found', 'destination_unavailable', 'destination_ip_prohibited', 'destination_ip_unroutable',
  'connection_refused', 'connection_terminated', 'connection_timeout', 'connection_read_timeout', 'connection_write_timeout', 'connection_limit_reached',
  'tls_protocol_error', 'tls_certificate_error', 'tls_alert_received', 'http_request_error', 'http_request_denied', 'http_response_incomplete',
  'http_response_header_section_size', 'http_response_header_size', 'http_response_body_size', 'http_response_trailer_section_size',
  'http_response_trailer_size', 'http_response_transfer_coding', 'http_response_content_coding', 'http_response_timeout', 'http_upgrade_failed',
  'http_protocol_error', 'proxy_internal_response', 'proxy_internal_error', 'proxy_configuration_error', 'proxy_loop_detected',
]);

test('every refusal code has a complete, valid row: HTTP status and its text, an RFC 9209 type, a SOCKS5 reply, a log reason and a metric label', () => {
  const socksCodes = new Set<number>(Object.values(SocksReply));
  for (const [code, answer] of Object.entries(REFUSALS)) {
    assert.ok(answer.status >= 400 && answer.status < 600, `${code}: status ${answer.status}`);
    assert.equal(answer.statusText, STATUS_CODES[answer.status], `${code}: reason phrase`);
    if (answer.proxyStatus !== undefined) assert.ok(PROXY_STATUS_TYPES.has(answer.proxyStatus), `${code}: ${answer.proxyStatus} is an RFC 9209 error type`);
    assert.ok(socksCodes.has(answer.socks) && answer.socks !== SocksReply.succeeded, `${code}: SOCKS5 reply ${answer.socks}`);
    assert.match(answer.logReason, /^[a-z][a-z0-9-]*$/, `${code}: log reason`);
    assert.equal(answer.metricLabel, answer.logReason, `${code}: the metric counts what the log says`);
  }
});

test('the answers clients and tests rely on', () => {
  const expect: [RefusalCode, number, string | undefined, number, string][] = [
    ['bad-request', 400, 'http_request_error', SocksReply.generalFailure, 'bad-request'],
    ['via-loop', 508, 'proxy_loop_detected', SocksReply.notAllowed, 'loop'],
    ['auth-required', 407, undefined, SocksReply.notAllowed, 'auth-required'],
    ['auth-throttled', 429, undefined, SocksReply.notAllowed, 'auth-throttled'],
    ['auth-unavailable', 503, undefined, SocksReply.generalFailure, 'auth-unavailable'],
    ['connection-limit', 503, 'connection_limit_reached', SocksReply.notAllowed, 'connection-limit'],
    ['rate-limited', 429, undefined, SocksReply.notAllowed, 'rate-limited'],
    ['port-not-allowed', 403, 'http_request_denied', SocksReply.notAllowed, 'port-not-allowed'],
    ['private-target', 403, 'destination_ip_prohibited', SocksReply.notAllowed, 'private-target'],
    ['acl-denied', 403, 'http_request_denied', SocksReply.notAllowed, 'acl-denied'],
    ['backend-limit', 503, 'connection_limit_reached', SocksReply.generalFailure, 'backend-limit'],
    ['no-route', 403, 'destination_ip_prohibited', SocksReply.notAllowed, 'no-route'],
    ['backend-unhealthy', 502, 'destination_unavailable', SocksReply.hostUnreachable, 'backend-unhealthy'],
    ['timeout', 504, 'connection_timeout', SocksReply.hostUnreachable, 'timeout'],
    ['response-timeout', 504, 'http_response_timeout', SocksReply.hostUnreachable, 'timeout'],
    ['refused', 502, 'connection_refused', SocksReply.connectionRefused, 'refused'],
    ['unreachable', 502, 'destination_unavailable', SocksReply.networkUnreachable, 'unreachable'],
    ['dns', 502, 'dns_error', SocksReply.hostUnreachable, 'dns'],
    ['loop', 403, 'proxy_loop_detected', SocksReply.notAllowed, 'loop'],
    ['response-header-too-large', 502, 'http_response_header_section_size', SocksReply.generalFailure, 'protocol'],
    ['backend-removed', 502, 'proxy_internal_error', SocksReply.generalFailure, 'backend-removed'],
    ['header-too-large', 431, 'http_request_error', SocksReply.generalFailure, 'header-too-large'],
  ];
  for (const [code, status, proxyStatus, socks, logReason] of expect) {
    const answer = REFUSALS[code];
    assert.deepEqual([answer.status, answer.proxyStatus, answer.socks, answer.logReason], [status, proxyStatus, socks, logReason], code);
  }
});

test('a refusal carries its code, the line for the client and its extra headers', () => {
  assert.deepEqual(refusal('rate-limited', 'rate_limiting.per_ip exceeded', { 'Retry-After': 2 }), { code: 'rate-limited', reason: 'rate_limiting.per_ip exceeded', headers: { 'Retry-After': 2 } });
  assert.equal(refusal('no-route', 'no routing rule matches x').headers, undefined);
});
