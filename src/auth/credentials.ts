import type { Credentials } from './identity.js';

/**
 * Parses a `Proxy-Authorization` value: `Basic base64(user:password)` or `Bearer token`.
 * Null when absent, `'malformed'` when present but unusable.
 */
export function parseProxyAuthorization(value: string | undefined): Credentials | null | 'malformed' {
  if (value === undefined || value === '') return null;
  const space = value.indexOf(' ');
  if (space <= 0) return 'malformed';
  const scheme = value.slice(0, space).toLowerCase();
  const rest = value.slice(space + 1).trim();
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(rest)) return 'malformed';
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'malformed';
    return { kind: 'password', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (scheme === 'bearer') return rest === '' ? 'malformed' : { kind: 'bearer', token: rest };
  return 'malformed';
}
