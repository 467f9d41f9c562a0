import { isIP } from 'node:net';

/**
 * IP addresses as four 32-bit words (IPv6 order; an IPv4 address is its IPv4-mapped IPv6 form,
 * `::ffff:a.b.c.d`), so that one ordering and one set cover both families and an IPv4-mapped
 * client or target matches the IPv4 blocks written for it.
 */
export type IpWords = Uint32Array;

const MAPPED_HIGH = 0xffff;

/** Writes the words of `text` into `out` (4 words at `offset`); false when it is not an IP literal. Allocates nothing for IPv4. */
export function writeIpWords(text: string, out: Uint32Array, offset = 0): boolean {
  const v4 = parseIpv4(text, 0, text.length);
  if (v4 !== -1) {
    out[offset] = 0;
    out[offset + 1] = 0;
    out[offset + 2] = MAPPED_HIGH;
    out[offset + 3] = v4;
    return true;
  }
  if (isIP(text) !== 6) return false;
  return parseIpv6(text, out, offset);
}

/** An IPv4 dotted quad in text[from, to) as an unsigned number, or -1. */
function parseIpv4(text: string, from: number, to: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** An IPv6 literal (already checked by isIP), with an optional embedded IPv4 tail. */
function parseIpv6(text: string, out: Uint32Array, offset: number): boolean {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  const groups = new Array<number>(8).fill(0);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const expand = (part: string): number[] => {
    if (part === '') return [];
    const out16: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = parseIpv4(piece, 0, piece.length);
        out16.push(Math.floor(v4 / 65536), v4 % 65536);
      } else out16.push(parseInt(piece, 16));
    }
    return out16;
  };
  const left = expand(head);
  const right = tail === undefined ? [] : expand(tail);
  left.forEach((g, i) => (groups[i] = g));
  right.forEach((g, i) => (groups[8 - right.length + i] = g));
  for (let w = 0; w < 4; w++) out[offset + w] = ((groups[w * 2] << 16) | groups[w * 2 + 1]) >>> 0;
  return true;
}

/** A CIDR block (or single address) as its first and last address, in words; null when malformed. */
export function parseCidr(text: string): { first: Uint32Array; last: Uint32Array } | null {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text.trim() : text.slice(0, slash).trim();
  const first = new Uint32Array(4);
  if (!writeIpWords(address, first)) return null;
  const family = isIP(address);
  const maxBits = family === 4 ? 32 : 128;
  let bits = maxBits;
  if (slash !== -1) {
    const written = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(written) || Number(written) > maxBits) return null;
    bits = Number(written);
  }
  // An IPv4 prefix counts from bit 96 of the mapped form.
  const prefix = family === 4 ? bits + 96 : bits;
  const last = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    const keep = Math.max(0, Math.min(32, prefix - w * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    first[w] = (first[w] & mask) >>> 0;
    last[w] = (first[w] | (~mask >>> 0)) >>> 0;
  }
  return { first, last };
}

/** Compares the 4 words at a[ai] with b[bi]: negative, zero or positive. */
export function compareWords(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let w = 0; w < 4; w++) {
    const d = a[ai + w] - b[bi + w];
    if (d !== 0) return d;
  }
  return 0;
}
