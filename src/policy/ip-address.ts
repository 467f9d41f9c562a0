import { domainToASCII } from 'node:url';
import { isIPv4, isIPv6 } from 'node:net';

/** IPv6 prefixes whose last 32 bits are an IPv4 address that is what gets reached. */
const EMBEDDED_V4 = [
  /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/, // IPv4-mapped
  /^::ffff:0:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/, // IPv4-translated (SIIT)
  /^64:ff9b::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/, // NAT64 well-known prefix
  /^::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/, // IPv4-compatible (deprecated, still routed by some stacks)
];

/**
 * The one canonical text of an IP address written in any form a URL parser, a resolver or a
 * socket library accepts, or null when `text` is a name. IPv4 in decimal, hex, octal or shortened
 * form, with a trailing dot or percent-encoded becomes dotted quad; IPv6 loses brackets and zone
 * id and is compressed in lower case; an IPv6 address that carries an IPv4 one (mapped,
 * compatible, translated, NAT64) becomes that IPv4 address. Every address check uses this first,
 * so no spelling of an address passes as a name.
 */
export function normalizeAddress(text: string): string | null {
  let host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (host.includes(':')) {
    const zone = host.indexOf('%');
    if (zone !== -1) host = host.slice(0, zone);
    if (!isIPv6(host)) return null;
    const canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    for (const pattern of EMBEDDED_V4) {
      const match = pattern.exec(canonical);
      if (match) return v4FromGroups(parseInt(match[1], 16), parseInt(match[2], 16));
    }
    return canonical;
  }
  if (isIPv4(host)) return host;
  // The WHATWG host parser reads every IPv4 notation (and percent-decodes); a name stays a name.
  const parsed = domainToASCII(host);
  return isIPv4(parsed) ? parsed : null;
}

function v4FromGroups(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** A client address without the IPv4-mapped prefix that dual-stack sockets give IPv4 peers. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
