import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';

/** A parsed domain pattern: exact name, `*.suffix` (also matches the suffix itself), or `*`. */
export type DomainPattern =
  | { kind: 'any' }
  | { kind: 'exact'; name: string }
  | { kind: 'suffix'; name: string };

/**
 * Canonical form of a host name for matching: lower case, no trailing dot, IDNs in punycode,
 * IPv6 literals without brackets.
 */
export function normalizeHost(host: string): string {
  if (isPlainLowerName(host)) return host;
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (isIP(h) !== 0) return h.toLowerCase();
  // Plain ASCII names are by far the common case: skip the IDN conversion for them.
  if (/^[\x21-\x7e]*$/.test(h)) return h.toLowerCase();
  return domainToASCII(h) || h.toLowerCase();
}

/** True for the common case that needs no work: only `a-z 0-9 . - _`, no trailing dot. */
function isPlainLowerName(host: string): boolean {
  const n = host.length;
  if (n === 0 || host.charCodeAt(n - 1) === 46) return false;
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 95)) return false;
  }
  return true;
}

/** Whether a normalised host is an IP literal (cheap test first: names end in a letter). */
export function isIpLiteral(host: string): boolean {
  const last = host.charCodeAt(host.length - 1);
  if (last >= 97 && last <= 122 && !host.includes(':')) return false;
  return isIP(host) !== 0;
}

/** Parses a pattern as written in a rule; throws a plain Error with the reason when it is malformed. */
export function parseDomainPattern(pattern: string): DomainPattern {
  const p = pattern.trim();
  if (p === '*') return { kind: 'any' };
  if (p.startsWith('*.')) {
    const name = normalizeHost(p.slice(2));
    if (!isValidName(name)) throw new Error(`"${pattern}" is not a valid domain pattern (expected "*.example.com")`);
    return { kind: 'suffix', name };
  }
  if (p.includes('*')) {
    throw new Error(`"${pattern}" is not a valid domain pattern: "*" is allowed only alone or as the first label ("*.example.com")`);
  }
  const name = normalizeHost(p);
  if (!isValidName(name) && isIP(name) === 0) throw new Error(`"${pattern}" is not a valid domain name`);
  return { kind: 'exact', name };
}

/** Labels of 1-63 characters of `a-z 0-9 _ -`, no hyphen first or last (a loop, not a regex per label: rule sets check a million names). */
function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i === name.length ? 46 : name.charCodeAt(i);
    if (c === 46) {
      const length = i - start;
      if (length === 0 || length > 63 || name.charCodeAt(start) === 45 || name.charCodeAt(i - 1) === 45) return false;
      start = i + 1;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45)) return false;
  }
  return true;
}

/** Whether every host `inner` matches is also matched by `outer` (so a later `inner` can never win against an earlier `outer`). */
export function patternCovers(outer: DomainPattern, inner: DomainPattern): boolean {
  if (outer.kind === 'any') return true;
  if (inner.kind === 'any') return false;
  if (outer.kind === 'exact') return inner.kind === 'exact' && inner.name === outer.name;
  return inner.name === outer.name || inner.name.endsWith(`.${outer.name}`);
}

/** Whether a pattern matches a host (already normalised with normalizeHost). */
export function patternMatches(pattern: DomainPattern, host: string): boolean {
  if (pattern.kind === 'any') return true;
  if (pattern.kind === 'exact') return host === pattern.name;
  return host === pattern.name || host.endsWith(`.${pattern.name}`);
}
