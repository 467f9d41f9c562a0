import type { Target } from '../backends/backend.js';

/** A parsed absolute-form request target. */
export interface HttpTarget extends Target {
  scheme: 'http:' | 'https:';
  /** Origin-form path and query (`/` when empty). */
  path: string;
}

/** Parses `http://host[:port]/path?q` (absolute-form, RFC 9112 section 3.2.2); null when it is not one. */
export function parseAbsoluteTarget(url: string): HttpTarget | null {
  let scheme: 'http:' | 'https:';
  let rest: string;
  // Clients write the scheme in lower case: only another spelling is lower-cased to compare.
  if (url.length > 7 && (url.startsWith('http://') || url.slice(0, 7).toLowerCase() === 'http://')) {
    scheme = 'http:';
    rest = url.slice(7);
  } else if (url.length > 8 && (url.startsWith('https://') || url.slice(0, 8).toLowerCase() === 'https://')) {
    scheme = 'https:';
    rest = url.slice(8);
  } else {
    return null;
  }
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  const hostPort = parseAuthority(rest.slice(0, end), scheme === 'https:' ? 443 : 80);
  if (!hostPort) return null;
  let path = rest.slice(end);
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash);
  if (path === '' || path[0] === '?') path = `/${path}`;
  return { scheme, host: hostPort.host, port: hostPort.port, path };
}

/** Why an absolute-form target did not parse: credentials in it (RFC 9110 section 4.2.4), or not an http(s) URL. */
export function badTargetReason(url: string): string {
  if (/^https?:\/\/[^/?#]*@/i.test(url)) return 'the request target carries credentials (user:password@host), which a URL must not (RFC 9110 section 4.2.4): send them in an Authorization header';
  return 'not a proxy request: the request target must be an absolute http:// URL';
}

/** Parses `host:port`, `[v6]:port` or `host` (with a default port); null when malformed. */
export function parseAuthority(authority: string, defaultPort?: number): Target | null {
  if (authority.includes('@') || authority === '') return null;
  let host: string;
  let portText: string | undefined;
  if (authority[0] === '[') {
    const close = authority.indexOf(']');
    if (close === -1) return null;
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== '' && after[0] !== ':') return null;
    portText = after === '' ? undefined : after.slice(1);
    if (!host.includes(':')) return null;
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon !== -1 && authority.indexOf(':') !== colon) return null;
    host = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
    if (!/^[A-Za-z0-9._~!$&'()*+,;=%-]+$/.test(host)) return null;
  }
  let port: number;
  if (portText === undefined || portText === '') {
    if (defaultPort === undefined) return null;
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
  }
  if (port < 1 || port > 65535 || host === '') return null;
  return { host, port };
}
