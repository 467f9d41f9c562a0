import type { HeaderList } from '../proxy/connection-record.js';

const MASK = '***';

/**
 * Masks the values of the named headers (lower-case names). An auth header keeps its scheme
 * (`Bearer ***`) so a reader still sees what kind of credential was sent, never the credential.
 */
export function maskHeaderList(headers: HeaderList, names: ReadonlySet<string>): HeaderList {
  const out = headers.slice();
  for (let i = 0; i < out.length; i += 2) {
    if (!names.has(out[i].toLowerCase())) continue;
    const scheme = /^(Basic|Bearer|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|Token)\s/i.exec(out[i + 1]);
    out[i + 1] = scheme ? `${scheme[1]} ${MASK}` : MASK;
  }
  return out;
}
