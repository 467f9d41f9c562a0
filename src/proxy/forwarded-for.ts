import type { ForwardedFor } from '../config/model.js';
import { unmapIpv4 } from '../policy/ip-address.js';

/** The request fields `network.forwarded_for` governs, lower case. */
export const FORWARDED_FIELDS = ['x-forwarded-for', 'forwarded'] as const;

/**
 * Adds what `mode` asks for to an outgoing header list from which the client's own
 * X-Forwarded-For and Forwarded were left out (every mode but `off` leaves them out): `append`
 * carries the client's values with the client's address after them, `replace` only the client's
 * address, `delete` nothing.
 */
export function addForwarded(mode: ForwardedFor, raw: readonly string[], client: string, out: string[]): void {
  if (mode === 'off' || mode === 'delete') return;
  const address = unmapIpv4(client);
  // RFC 7239 section 6: an IPv6 node is bracketed and quoted.
  const node = address.includes(':') ? `"[${address}]"` : address;
  let forwardedFor = '';
  let forwarded = '';
  if (mode === 'append') {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name === 'x-forwarded-for') forwardedFor += `${forwardedFor ? ', ' : ''}${raw[i + 1]}`;
      else if (name === 'forwarded') forwarded += `${forwarded ? ', ' : ''}${raw[i + 1]}`;
    }
  }
  out.push('X-Forwarded-For', forwardedFor ? `${forwardedFor}, ${address}` : address, 'Forwarded', forwarded ? `${forwarded}, for=${node}` : `for=${node}`);
}
