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

/** A bit per name length (names of 32 characters or more share the top bit): a name whose bit is clear is not in the set. */
function lengthMask(names: Iterable<string>): number {
  let mask = 0;
  for (const name of names) mask |= 1 << Math.min(name.length, 31);
  return mask;
}

const HOP_LENGTHS = lengthMask(HOP_BY_HOP);
/** The length mask of each `drop` set a caller passes (they are module constants: computed once). */
const dropMasks = new WeakMap<ReadonlySet<string>, number>();

function dropMask(drop: ReadonlySet<string>): number {
  let mask = dropMasks.get(drop);
  if (mask === undefined) dropMasks.set(drop, (mask = lengthMask(drop)));
  return mask;
}

/**
 * Copies a flat raw header list (`[name, value, name, value, …]`) without hop-by-hop fields and
 * without the names in `drop` (lower case) into `out` (a new list, or `raw` itself to strip it in
 * place); returns `out`. Only a name as long as one of the dropped names is lower-cased to compare
 * (a request or answer's usual fields are not).
 */
export function stripHopByHop(raw: readonly string[], drop?: ReadonlySet<string>, out: string[] = []): string[] {
  let connectionValues: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') (connectionValues ??= []).push(raw[i + 1]);
  }
  const listed = connectionValues ? connectionOptions(connectionValues) : null;
  const lengths = drop ? HOP_LENGTHS | dropMask(drop) : HOP_LENGTHS;
  const length = raw.length;
  let kept = 0;
  for (let i = 0; i < length; i += 2) {
    const field = raw[i];
    if (listed !== null || (lengths & (1 << Math.min(field.length, 31))) !== 0) {
      const name = field.toLowerCase();
      if (HOP_BY_HOP.has(name) || listed?.has(name) || drop?.has(name)) continue;
    }
    // In place, the write position never passes the read position.
    out[kept++] = field;
    out[kept++] = raw[i + 1];
  }
  out.length = kept;
  return out;
}
