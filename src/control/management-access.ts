import type { IncomingMessage } from 'node:http';
import type { ManagementSpec } from '../config/model.js';
import { ProxyError } from '../errors.js';
import { isLoopback } from '../policy/cidr-set.js';
import { API_ROLES, type ApiRole } from './api.js';
import type { Dispatched, Guard } from './control-router.js';

/** Why a management listener must not start (bound beyond loopback without TLS or without a key), or null. */
export function managementProblem(spec: ManagementSpec, usableKeys: number): string | null {
  if (spec.port === null || spec.host === 'localhost' || isLoopback(spec.host)) return null;
  const missing = [...(spec.tls ? [] : ['TLS (management.tls.cert_file and key_file)']), ...(usableKeys > 0 ? [] : ['an API key ("apikey add --role ...")'])];
  if (missing.length === 0) return null;
  return `refusing to serve the control API on ${spec.host}:${spec.port}: it is reachable from other hosts without ${missing.join(' and ')}; add ${missing.length > 1 ? 'them' : 'it'} or bind to 127.0.0.1`;
}

/** Why a request's Host or Origin is refused (a web page or a rebinding DNS name driving the controller), or null. */
export function browserProblem(req: IncomingMessage, spec: ManagementSpec): string | null {
  const host = hostName(req.headers.host);
  const names = new Set(['localhost', '127.0.0.1', '::1', ...spec.hostNames, ...(['0.0.0.0', '::'].includes(spec.host) ? [] : [spec.host.toLowerCase()])]);
  if (host === null || !names.has(host)) return `Host "${req.headers.host ?? ''}" is not a name of this controller; add it to management.host_names`;
  const origin = req.headers.origin;
  if (origin !== undefined && !spec.allowedOrigins.includes(origin)) return `Origin "${origin}" may not call this controller; add it to management.allowed_origins`;
  return null;
}

/** The Host header's name, lowercased, without port or IPv6 brackets. */
function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(header.trim().toLowerCase());
  return match ? (match[1] ?? match[2]) : null;
}

/** The bearer key of a request: only the Authorization header carries one (never a URL, where logs and history keep it). */
export function bearerKey(req: IncomingMessage): string | null {
  const url = new URL(req.url ?? '/', 'http://control');
  if (['api_key', 'apikey', 'key', 'token', 'access_token'].some((name) => url.searchParams.has(name))) {
    throw new ProxyError('BAD_REQUEST', 'an API key travels only in the "Authorization: Bearer KEY" header, never in the URL');
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1] : null;
}

/** Refuses a call beyond the caller's role, naming the role it needs. */
export const roleGuard: Guard = (found: Dispatched, caller) => {
  const needed: ApiRole = found.spec!.role;
  if (API_ROLES.indexOf(caller.role) >= API_ROLES.indexOf(needed)) return;
  const who = caller.kind === 'key' ? `key ${caller.keyId} has the ${caller.role} role` : `the caller has the ${caller.role} role`;
  throw new ProxyError('FORBIDDEN', `${found.spec!.method} ${found.spec!.path} needs the ${needed} role; ${who}`);
};
