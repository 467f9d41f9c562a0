import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Role } from '../role.js';

/**
 * This proxy's `Via` pseudonym, derived from the host name, the role and the listening addresses:
 * every engine worker and every restart of one proxy uses the same token (a loop through another
 * worker or across a restart is caught at the first hop), while two proxies on one host differ.
 */
export function viaToken(role: Role, listeners: readonly { kind: string; host: string; port: number }[]): string {
  const where = listeners.map((l) => `${l.kind} ${l.host} ${l.port}`).join('\n');
  return `simple-proxy-${createHash('sha256').update(`${hostname()}\n${role}\n${where}`).digest('hex').slice(0, 12)}`;
}
