import { DialError } from '../errors.js';
import { isLoopbackOrLinkLocal } from './cidr-set.js';
import { normalizeAddress } from './ip-address.js';

/** Whether an address, in any spelling, is loopback, link-local (cloud metadata) or unspecified. */
export function isPrivateAddress(address: string): boolean {
  const canonical = normalizeAddress(address);
  return canonical !== null && isLoopbackOrLinkLocal(canonical);
}

/** Whether a target names a private place without DNS: any spelling of such an address, or `localhost`. */
export function isPrivateLiteral(host: string): boolean {
  const lower = host.toLowerCase().replace(/\.$/, '');
  return lower === 'localhost' || lower.endsWith('.localhost') || isPrivateAddress(host);
}

/** The one-line reason a private target is refused (`what` names it: an address, or a name and what it resolved to). */
export function privateTargetReason(what: string): string {
  return `${what} is a loopback or link-local address; access_control.allow_private_targets is off`;
}

/** The dial failure for a private target, raised before any packet leaves for it. */
export function privateTargetError(what: string): DialError {
  return new DialError('private-target', privateTargetReason(what));
}
