import type { HeaderList } from '../protocol/connection-record.js';

const MASK = '***';

/** Credential headers masked by default in every output; a `mask_headers` list adds to them. */
export const DEFAULT_MASKED: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token', 'x-access-token'];

/**
 * The header names to mask (lower-case) for a `mask_headers` list and an `unmask` list: the
 * defaults plus the list; only an empty `mask_headers` lets `unmask` take defaults out.
 */
export function maskedNames(list: readonly string[], unmask: readonly string[] = []): Set<string> {
  const names = new Set([...DEFAULT_MASKED, ...list.map((n) => n.toLowerCase())]);
  if (list.length === 0) for (const name of unmask) names.delete(name.toLowerCase());
  return names;
}

/**
 * Masks the values of the named headers (lower-case names, from maskedNames). An
 * auth header keeps its scheme (`Bearer ***`) so a reader still sees what kind of credential was
 * sent, never the credential.
 */
export function maskHeaderList(headers: HeaderList, names: ReadonlySet<string>): HeaderList {
  const out = headers.slice();
  for (let i = 0; i < out.length; i += 2) {
    const name = out[i].toLowerCase();
    if (!names.has(name)) continue;
    const scheme = /^(Basic|Bearer|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|Token)\s/i.exec(out[i + 1]);
    out[i + 1] = scheme ? `${scheme[1]} ${MASK}` : MASK;
  }
  return out;
}

/** Whether a header value is one maskHeaderList wrote (the credential itself is gone). */
export function isMasked(value: string): boolean {
  return value === MASK || (value.endsWith(` ${MASK}`) && !value.slice(0, -MASK.length - 1).includes(' '));
}
