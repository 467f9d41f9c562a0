import type { HeaderList } from '../proxy/connection-record.js';

const MASK = '***';

/** Credential headers masked in every output whatever `mask_headers` lists. */
const ALWAYS_MASKED: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization']);

/**
 * Masks the values of the named headers (lower-case names) and of the credential headers. An
 * auth header keeps its scheme (`Bearer ***`) so a reader still sees what kind of credential was
 * sent, never the credential.
 */
export function maskHeaderList(headers: HeaderList, names: ReadonlySet<string>): HeaderList {
  const out = headers.slice();
  for (let i = 0; i < out.length; i += 2) {
    const name = out[i].toLowerCase();
    if (!names.has(name) && !ALWAYS_MASKED.has(name)) continue;
    const scheme = /^(Basic|Bearer|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|Token)\s/i.exec(out[i + 1]);
    out[i + 1] = scheme ? `${scheme[1]} ${MASK}` : MASK;
  }
  return out;
}
