/** Header names a proxy must not forward (RFC 9110 section 7.6.1), plus the proxy's own `Proxy-*` fields. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Header names listed in `Connection` header values (each also hop-by-hop), lower case. */
function connectionOptions(values: string[]): Set<string> | null {
  let names: Set<string> | null = null;
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive') (names ??= new Set()).add(name);
    }
  }
  return names;
}

/**
 * Copies a flat raw header list (`[name, value, name, value, …]`) without hop-by-hop fields and
 * without the names in `drop` (lower case); returns the kept list.
 */
export function stripHopByHop(raw: readonly string[], drop?: ReadonlySet<string>): string[] {
  let connectionValues: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') (connectionValues ??= []).push(raw[i + 1]);
  }
  const listed = connectionValues ? connectionOptions(connectionValues) : null;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || listed?.has(name) || drop?.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}
