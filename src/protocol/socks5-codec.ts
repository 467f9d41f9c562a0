import { isIPv4, isIPv6 } from 'node:net';
import { SocksCommand, SocksMethod, SocksReply } from './socks5-codes.js';

/*
 * Encoding and decoding of SOCKS5 messages (RFC 1928, RFC 1929 username/password). Parsers take
 * the bytes received so far and say how many they consumed (0: not complete yet), so a front can
 * feed them a stream without copying.
 */

/** SOCKS4's "request rejected" answer, so a SOCKS4 client sees a refusal rather than silence. */
export const SOCKS4_REJECTED: Buffer = Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]);
/** RFC 1929 status: success. */
export const AUTH_SUCCEEDED: Buffer = Buffer.from([0x01, 0x00]);
/** RFC 1929 status: failure (the server then closes). */
export const AUTH_FAILED: Buffer = Buffer.from([0x01, 0x01]);

/** The three answers a greeting can get, built once: nothing writes into a buffer handed to a socket. */
const METHOD_CHOICES = new Map<number, Buffer>([0x00, 0x02, 0xff].map((method) => [method, Buffer.from([0x05, method])]));

/** The method-selection answer to a greeting. */
export function methodChoice(method: number): Buffer {
  return METHOD_CHOICES.get(method) ?? Buffer.from([0x05, method]);
}

/** The length of a complete greeting (VER NMETHODS METHODS) at the start of `buffer`, or 0 while incomplete. */
export function greetingLength(buffer: Buffer): number {
  if (buffer.length < 2 || buffer.length < 2 + buffer[1]) return 0;
  return 2 + buffer[1];
}

/** Whether a complete greeting offers `method`. */
export function offersMethod(greeting: Buffer, method: number): boolean {
  const end = 2 + greeting[1];
  for (let i = 2; i < end; i++) if (greeting[i] === method) return true;
  return false;
}

/** An RFC 1929 username/password request. */
export interface UserPass {
  username: string;
  password: string;
  /** Bytes it took. */
  length: number;
}

/** Parses an RFC 1929 request: null while incomplete, 'malformed' for a wrong version. */
export function parseUserPass(buffer: Buffer): UserPass | null | 'malformed' {
  if (buffer.length < 2) return null;
  if (buffer[0] !== 0x01) return 'malformed';
  const ulen = buffer[1];
  if (buffer.length < 3 + ulen) return null;
  const plen = buffer[2 + ulen];
  const length = 3 + ulen + plen;
  if (buffer.length < length) return null;
  return { username: buffer.toString('utf8', 2, 2 + ulen), password: buffer.toString('utf8', 3 + ulen, length), length };
}

/** Where parseRequest puts the target it read. */
export interface SocksTarget {
  host: string;
  port: number;
}

/** parseRequest's outcomes besides a length: need more bytes, or not SOCKS5 at all (close without answer). */
export const NEED_MORE = 0;
export const MALFORMED = -256;

/**
 * Parses a request (VER CMD RSV ATYP DST.ADDR DST.PORT) into `into` (no allocation beyond the host
 * string). Returns its length; NEED_MORE; MALFORMED; or minus the reply code that refuses it
 * (address type or command not supported, empty host or port 0 for CONNECT). The command is
 * CONNECT or UDP ASSOCIATE (`buffer[1]`).
 */
export function parseRequest(buffer: Buffer, into: SocksTarget): number {
  if (buffer.length < 5) return NEED_MORE;
  if (buffer[0] !== 0x05 || buffer[2] !== 0x00) return MALFORMED;
  const atyp = buffer[3];
  let end: number;
  if (atyp === 0x01) {
    end = 8;
    if (buffer.length < end + 2) return NEED_MORE;
    into.host = `${buffer[4]}.${buffer[5]}.${buffer[6]}.${buffer[7]}`;
  } else if (atyp === 0x03) {
    end = 5 + buffer[4];
    if (buffer.length < end + 2) return NEED_MORE;
    into.host = buffer.toString('latin1', 5, end);
  } else if (atyp === 0x04) {
    end = 20;
    if (buffer.length < end + 2) return NEED_MORE;
    into.host = readIpv6(buffer, 4);
  } else {
    return -SocksReply.addressTypeNotSupported;
  }
  into.port = buffer.readUInt16BE(end);
  // UDP ASSOCIATE names where the client will send from, often 0.0.0.0:0 (not known yet).
  if (buffer[1] === SocksCommand.udpAssociate) return end + 2;
  if (buffer[1] !== SocksCommand.connect) return -SocksReply.commandNotSupported;
  if (into.host === '' || into.port === 0) return -SocksReply.generalFailure;
  return end + 2;
}

/** Whether a whole request is in `buffer` (an unknown address type counts as whole: nothing more is worth waiting for). */
export function requestComplete(buffer: Buffer): boolean {
  if (buffer.length < 5) return false;
  const address = buffer[3] === 0x01 ? 4 : buffer[3] === 0x04 ? 16 : buffer[3] === 0x03 ? 1 + buffer[4] : 0;
  return address === 0 || buffer.length >= 4 + address + 2;
}

/** A reply with the bound address (IPv4 or IPv6; zeros when unknown). */
export function encodeReply(code: number, address?: string, port?: number): Buffer {
  if (address && isIPv6(address) && !address.startsWith('::ffff:')) {
    const out = Buffer.alloc(22);
    out[0] = 0x05;
    out[1] = code;
    out[3] = 0x04;
    writeIpv6(out, 4, address);
    out.writeUInt16BE(port ?? 0, 20);
    return out;
  }
  const out = Buffer.alloc(10);
  out[0] = 0x05;
  out[1] = code;
  out[3] = 0x01;
  const v4 = address?.startsWith('::ffff:') ? address.slice(7) : address;
  if (v4 && isIPv4(v4)) v4.split('.').forEach((octet, i) => (out[4 + i] = Number(octet)));
  out.writeUInt16BE(port ?? 0, 8);
  return out;
}

/** The method a server picks from a greeting: user/password when auth is on, else none when offered; noAcceptable otherwise. */
export function chooseMethod(greeting: Buffer, wantsAuth: boolean): number {
  if (!wantsAuth && offersMethod(greeting, SocksMethod.none)) return SocksMethod.none;
  if (offersMethod(greeting, SocksMethod.userPass)) return SocksMethod.userPass;
  return SocksMethod.noAcceptable;
}

function readIpv6(buffer: Buffer, offset: number): string {
  let text = buffer.readUInt16BE(offset).toString(16);
  for (let i = offset + 2; i < offset + 16; i += 2) text += `:${buffer.readUInt16BE(i).toString(16)}`;
  return text;
}

function writeIpv6(out: Buffer, offset: number, address: string): void {
  const [head, tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right] : left;
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16) || 0, offset + i * 2));
}
