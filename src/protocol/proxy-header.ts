import { isIPv4, isIPv6 } from 'node:net';

/*
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header a TCP load
 * balancer sends before the client's bytes, carrying the client's address. Parsing is pure and
 * incremental (feed what has arrived; it says whether more is needed), so a listener can read the
 * header off a raw socket before any front sees the stream.
 */

/** One end of the proxied connection as the balancer saw it. */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** A parsed header. `local` (v2 LOCAL, v1 UNKNOWN) carries no addresses: the balancer's own connection (health checks). */
export type ProxyHeader =
  | { version: 1 | 2; command: 'proxy'; source: ProxyEndpoint; destination: ProxyEndpoint }
  | { version: 1 | 2; command: 'local' };

/** What parsing the bytes received so far gives: a header and its length, a need for more bytes, or why it is not a header. */
export type ProxyHeaderParse = { state: 'done'; header: ProxyHeader; length: number } | { state: 'more' } | { state: 'invalid'; reason: string };

/** The 12-byte signature that opens a version 2 header. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest version 1 line the specification allows, CRLF included. */
export const V1_MAX_LENGTH = 107;
/** Address and TLV bytes accepted after a v2 header's first 16; HAProxy's own TLVs stay far below. */
export const V2_MAX_PAYLOAD = 4096;

const MORE = { state: 'more' } as const;
const invalid = (reason: string): ProxyHeaderParse => ({ state: 'invalid', reason });

/** Parses a PROXY header (v1 or v2) at the start of `data`, the bytes received so far. */
export function parseProxyHeader(data: Buffer): ProxyHeaderParse {
  if (data.length === 0) return MORE;
  if (startsLike(data, V2_SIGNATURE)) return data.length < V2_SIGNATURE.length ? MORE : parseV2(data);
  if (startsLike(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? MORE : parseV1(data);
  return invalid('no PROXY protocol header');
}

/** Whether `data` agrees with `prefix` over the bytes both have. */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(data: Buffer): ProxyHeaderParse {
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end === -1) return data.length >= V1_MAX_LENGTH ? invalid(`v1 header longer than ${V1_MAX_LENGTH} bytes`) : MORE;
  if (end + 2 > V1_MAX_LENGTH) return invalid(`v1 header longer than ${V1_MAX_LENGTH} bytes`);
  const length = end + 2;
  const fields = data.toString('latin1', V1_PREFIX.length, end).split(' ');
  if (fields[0] === 'UNKNOWN') return { state: 'done', header: { version: 1, command: 'local' }, length };
  if (fields.length !== 5) return invalid('v1 header: expected "PROXY TCP4|TCP6 SRC DST SPORT DPORT"');
  const [family, source, destination, sourcePort, destinationPort] = fields;
  const valid = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : null;
  if (!valid) return invalid(`v1 header: unknown protocol "${family.slice(0, 16)}"`);
  if (!valid(source) || !valid(destination)) return invalid(`v1 header: addresses are not ${family === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  const sport = v1Port(sourcePort);
  const dport = v1Port(destinationPort);
  if (sport === null || dport === null) return invalid('v1 header: a port is not a number from 0 to 65535');
  return { state: 'done', header: { version: 1, command: 'proxy', source: { address: source, port: sport }, destination: { address: destination, port: dport } }, length };
}

/** A v1 port: decimal, no leading zero, at most 65535. */
function v1Port(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

function parseV2(data: Buffer): ProxyHeaderParse {
  if (data.length < 16) return MORE;
  const versionCommand = data[12];
  if (versionCommand >> 4 !== 2) return invalid(`v2 header: version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`v2 header: unknown command ${command}`);
  const payload = data.readUInt16BE(14);
  if (payload > V2_MAX_PAYLOAD) return invalid(`v2 header: ${payload} address bytes, more than ${V2_MAX_PAYLOAD}`);
  const length = 16 + payload;
  if (data.length < length) return MORE;
  // LOCAL: the balancer speaks for itself; whatever address block follows is ignored (spec 2.2).
  if (command === 0) return { state: 'done', header: { version: 2, command: 'local' }, length };
  const family = data[13] >> 4;
  const transport = data[13] & 0x0f;
  if (transport !== 1) return invalid(`v2 header: transport ${transport} is not a stream`);
  if (family === 1) {
    if (payload < 12) return invalid('v2 header: IPv4 address block shorter than 12 bytes');
    const source = { address: ipv4(data, 16), port: data.readUInt16BE(24) };
    const destination = { address: ipv4(data, 20), port: data.readUInt16BE(26) };
    return { state: 'done', header: { version: 2, command: 'proxy', source, destination }, length };
  }
  if (family === 2) {
    if (payload < 36) return invalid('v2 header: IPv6 address block shorter than 36 bytes');
    const source = { address: ipv6(data, 16), port: data.readUInt16BE(48) };
    const destination = { address: ipv6(data, 32), port: data.readUInt16BE(50) };
    return { state: 'done', header: { version: 2, command: 'proxy', source, destination }, length };
  }
  // UNSPEC or AF_UNIX under PROXY: no address the policy could use.
  return invalid(`v2 header: address family ${family} carries no IP address`);
}

function ipv4(data: Buffer, at: number): string {
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
}

/** An IPv6 address as Node's sockets report one: compressed (`2001:db8::1`), IPv4-mapped as `::ffff:10.0.0.1`. */
function ipv6(data: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4(data, at + 12)}`;
  // The longest run of zero groups (two or more) becomes "::", as RFC 5952 says.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
