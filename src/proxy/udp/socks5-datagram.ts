import { isIP } from 'node:net';
import { encodeReply } from '../../protocol/socks5-codec.js';

/** Why a datagram from the client was dropped before it went anywhere. */
export type DatagramFault = 'truncated' | 'fragmented' | 'address-type';

/** Where a client datagram goes: the address bytes as a flow key, and where the payload starts. */
export interface DatagramHeader {
  /** ATYP, DST.ADDR and DST.PORT as raw bytes (latin1): the same destination always gives the same key. */
  key: string;
  /** Offset of the payload. */
  offset: number;
}

/**
 * Reads the header of a SOCKS5 UDP request (RFC 1928 section 7: RSV RSV FRAG ATYP DST.ADDR
 * DST.PORT DATA). Only the lengths are checked here, per datagram; the destination's text is
 * made once per flow (`destination`).
 */
export function readDatagram(datagram: Buffer): DatagramHeader | DatagramFault {
  if (datagram.length < 4) return 'truncated';
  // Fragments are never reassembled (RFC 1928 lets a relay drop them); most clients never send any.
  if (datagram[2] !== 0) return 'fragmented';
  const atyp = datagram[3];
  const end = atyp === 0x01 ? 8 : atyp === 0x04 ? 20 : atyp === 0x03 && datagram.length > 4 ? 5 + datagram[4] : -1;
  if (end === -1) return datagram.length <= 4 && atyp === 0x03 ? 'truncated' : 'address-type';
  if (datagram.length < end + 2) return 'truncated';
  return { key: datagram.toString('latin1', 3, end + 2), offset: end + 2 };
}

/** The host and port a flow key names (ATYP 3 names stay names: the backend resolves them). */
export function destination(key: string): { host: string; port: number } {
  const bytes = Buffer.from(key, 'latin1');
  const port = bytes.readUInt16BE(bytes.length - 2);
  if (bytes[0] === 0x01) return { host: `${bytes[1]}.${bytes[2]}.${bytes[3]}.${bytes[4]}`, port };
  if (bytes[0] === 0x04) {
    const groups: string[] = [];
    for (let i = 1; i < 17; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    // Canonical (compressed) text, as an IPv6 literal is written in rules and logs.
    return { host: new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1), port };
  }
  return { host: bytes.toString('latin1', 2, 2 + bytes[1]), port };
}

/** The header put before a datagram relayed back to the client: where it came from (an IP address, or a name as an upstream gave it). */
export function replyHeader(address: string, port: number): Buffer {
  if (isIP(address) !== 0) {
    // A reply's address layout with RSV RSV FRAG in place of VER REP RSV.
    const out = encodeReply(0, address, port);
    out[0] = 0;
    return out;
  }
  const name = Buffer.from(address, 'latin1').subarray(0, 255);
  const out = Buffer.alloc(7 + name.length);
  out[3] = 0x03;
  out[4] = name.length;
  name.copy(out, 5);
  out.writeUInt16BE(port, 5 + name.length);
  return out;
}
