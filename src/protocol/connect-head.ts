/** What a proxy reads from a CONNECT request head: its target and the few headers it acts on. */
export interface ConnectHead {
  /** The request target as sent (`host:port`, `[v6]:port`); checked by the front. */
  target: string;
  userAgent?: string;
  referer?: string;
  /** `Proxy-Authorization`, the first one sent. */
  authorization?: string;
  /** Every `Via` sent, joined with `, ` (as node:http joins them). */
  via?: string;
}

/** A CONNECT head parsed off the first bytes of a connection, and where it ended. */
export interface ParsedConnectHead {
  head: ConnectHead;
  /** Bytes of the head, its blank line included: what follows is the client's tunnel data. */
  length: number;
}

const END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * The whole head in the strict form: `CONNECT target HTTP/1.1` (or 1.0) with single spaces, every
 * line ended by CRLF, header names that are tokens with the colon right after them, values of
 * visible characters, spaces, tabs and obs-text. No folding, no bare CR or LF, no control bytes.
 */
const STRICT_HEAD = /^CONNECT [A-Za-z0-9._~!$&'()*+,;=%:@[\]-]+ HTTP\/1\.[01]\r\n(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r\n)*\r\n$/;

/**
 * Parses a CONNECT request head that `bytes` holds complete (at most `maxBytes` long) in the
 * strict form, where every reading agrees on what it says (the target in the characters of an
 * authority: names, IPv4 and bracketed IPv6 literals). Null for anything else (another method,
 * a head not yet complete or too large, any looser syntax, a body framing header, which a CONNECT
 * has no use for): such input is left to a full HTTP parser, which serves or refuses it.
 */
export function parseConnectHead(bytes: Buffer, maxBytes: number): ParsedConnectHead | null {
  // 0x43 0x4f: "CO"; most connections that are not a CONNECT end here.
  if (bytes.length < 24 || bytes[0] !== 0x43 || bytes[1] !== 0x4f) return null;
  const end = bytes.indexOf(END);
  if (end === -1 || end + 4 > maxBytes) return null;
  const text = bytes.toString('latin1', 0, end + 4);
  if (!STRICT_HEAD.test(text)) return null;
  const lineEnd = text.indexOf('\r\n');
  const head: ConnectHead = { target: text.slice(8, lineEnd - 9) };
  for (let start = lineEnd + 2; start < end + 2; ) {
    const stop = text.indexOf('\r\n', start);
    const colon = text.indexOf(':', start);
    if (!remember(head, text.slice(start, colon).toLowerCase(), text, colon + 1, stop)) return null;
    start = stop + 2;
  }
  return { head, length: end + 4 };
}

/** Keeps a header the front acts on (its value is `text` from `from` to `to`); false for one that asks for the full parser's rules (body framing). */
function remember(head: ConnectHead, name: string, text: string, from: number, to: number): boolean {
  switch (name) {
    case 'user-agent':
      head.userAgent ??= valueOf(text, from, to);
      return true;
    case 'referer':
      head.referer ??= valueOf(text, from, to);
      return true;
    case 'proxy-authorization':
      head.authorization ??= valueOf(text, from, to);
      return true;
    case 'via': {
      const value = valueOf(text, from, to);
      head.via = head.via === undefined ? value : `${head.via}, ${value}`;
      return true;
    }
    case 'content-length':
    case 'transfer-encoding':
      return false;
    default:
      return true;
  }
}

/** A header value without the spaces and tabs around it (only those: obs-text such as 0xA0 is kept, as node:http keeps it). */
function valueOf(text: string, from: number, to: number): string {
  while (from < to && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09)) from++;
  while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09)) to--;
  return text.slice(from, to);
}
