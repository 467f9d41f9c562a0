import { isIPv4 } from 'node:net';

/** A PROXY v1 line for a TCP connection from `source` to `destination` (as curl --haproxy-protocol sends). */
export function proxyV1(source: string, sourcePort: number, destination: string, destinationPort: number): Buffer {
  return Buffer.from(`PROXY ${isIPv4(source) ? 'TCP4' : 'TCP6'} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1');
}

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function ipv6Bytes(address: string): Buffer {
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right] : left;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  return out;
}

/** A PROXY v2 header (command PROXY over TCP, or LOCAL when `source` is null), with optional TLV bytes appended. */
export function proxyV2(source: { address: string; port: number } | null, destination = { address: '127.0.0.1', port: 8080 }, tlvs = Buffer.alloc(0)): Buffer {
  if (source === null) return Buffer.concat([SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const v4 = isIPv4(source.address);
  const addresses = v4
    ? Buffer.concat([Buffer.from(source.address.split('.').map(Number)), Buffer.from(destination.address.split('.').map(Number)), Buffer.alloc(4)])
    : Buffer.concat([ipv6Bytes(source.address), ipv6Bytes(destination.address), Buffer.alloc(4)]);
  addresses.writeUInt16BE(source.port, addresses.length - 4);
  addresses.writeUInt16BE(destination.port, addresses.length - 2);
  const head = Buffer.from([0x21, v4 ? 0x11 : 0x21, 0, 0]);
  head.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([SIGNATURE, head, addresses, tlvs]);
}
