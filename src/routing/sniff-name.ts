import { isIP } from 'node:net';
import { normalizeHost } from './domain-pattern.js';

/** What the first bytes of a connection say about the name it is for: a name, "need more bytes", or nothing to find. */
export type Sniffed = { name: string; from: 'tls' | 'http' } | 'more' | null;

/** The largest opening looked at: one TLS record (16 KiB) and its header. */
export const SNIFF_MAX_BYTES = 16_384 + 5;

const HTTP_METHOD = /^[A-Z]{3,7} /;

/**
 * The server name a TLS ClientHello asks for (SNI), or the Host of an HTTP/1 request, from the
 * first bytes a client sent; 'more' while the opening is cut short, null when it is neither or
 * names no host (an IP literal is no name).
 */
export function sniffName(data: Buffer): Sniffed {
  if (data.length === 0) return 'more';
  if (data[0] === 0x16) return sniffTls(data);
  if (data[0] >= 0x41 && data[0] <= 0x5a) return sniffHttp(data);
  return null;
}

function named(raw: string, from: 'tls' | 'http'): Sniffed {
  const name = normalizeHost(raw);
  return name === '' || isIP(name) !== 0 ? null : { name, from };
}

function sniffTls(data: Buffer): Sniffed {
  if (data.length < 5) return 'more';
  const recordLength = data.readUInt16BE(3);
  if (data.length < 5 + recordLength) return data.length >= SNIFF_MAX_BYTES ? null : 'more';
  const end = 5 + recordLength;
  let at = 5;
  // Handshake header: type 1 (ClientHello) and a 24-bit length.
  if (data[at] !== 0x01) return null;
  at += 4;
  at += 2 + 32; // client_version, random
  if (at >= end) return null;
  at += 1 + data[at]; // session_id
  if (at + 2 > end) return null;
  at += 2 + data.readUInt16BE(at); // cipher_suites
  if (at + 1 > end) return null;
  at += 1 + data[at]; // compression_methods
  if (at + 2 > end) return null;
  const extensionsEnd = Math.min(end, at + 2 + data.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = data.readUInt16BE(at);
    const length = data.readUInt16BE(at + 2);
    at += 4;
    if (type === 0x0000 && at + 5 <= extensionsEnd) {
      // server_name_list: 2-byte length, then entries of type (0: host_name) and a 2-byte length.
      if (data[at + 2] !== 0x00) return null;
      const nameLength = data.readUInt16BE(at + 3);
      if (at + 5 + nameLength > extensionsEnd) return null;
      return named(data.toString('latin1', at + 5, at + 5 + nameLength), 'tls');
    }
    at += length;
  }
  return null;
}

function sniffHttp(data: Buffer): Sniffed {
  const head = data.toString('latin1', 0, Math.min(data.length, SNIFF_MAX_BYTES));
  if (!HTTP_METHOD.test(head)) return null;
  const endOfHead = head.indexOf('\r\n\r\n');
  const host = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(endOfHead === -1 ? head : head.slice(0, endOfHead + 2));
  if (!host) return endOfHead === -1 && data.length < SNIFF_MAX_BYTES ? 'more' : null;
  const value = host[1].trim();
  // A port, or an IPv6 literal in brackets, is not part of the name.
  const name = value.startsWith('[') ? value.slice(1, value.indexOf(']')) : value.replace(/:\d*$/, '');
  return named(name, 'http');
}
