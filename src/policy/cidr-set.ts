import { isIP } from 'node:net';

type Parsed = { family: 4 | 6; groups: Uint16Array } | null;

/** The last address parsed: a connection's checks (IP lists, trusted clients, private targets) ask about the same client in a row. */
let lastText = '';
let lastParsed: Parsed = null;

/** One block: the address as 16-bit groups (IPv4 as two groups) and the prefix length in bits. */
interface Block {
  family: 4 | 6;
  groups: Uint16Array;
  bits: number;
}

/**
 * A set of IPv4 and IPv6 addresses and CIDR blocks, matched by prefix. An IPv4-mapped IPv6
 * client address (`::ffff:10.0.0.1`, what a dual-stack listener reports) matches IPv4 blocks.
 */
export class CidrSet {
  private readonly blocks: Block[];

  /** Builds the set; every entry must be an address or a CIDR block (the schema checked them). */
  constructor(entries: readonly string[]) {
    this.blocks = entries.map(parseBlock);
  }

  /** Whether the set has no entries. */
  get empty(): boolean {
    return this.blocks.length === 0;
  }

  /** Whether an address lies in one of the blocks. */
  has(address: string): boolean {
    if (this.blocks.length === 0) return false;
    const parsed = parseAddress(address);
    if (!parsed) return false;
    for (const block of this.blocks) if (block.family === parsed.family && prefixMatches(block, parsed.groups)) return true;
    return false;
  }
}

/** Whether an address (in any notation a socket reports) is loopback. */
export function isLoopback(address: string): boolean {
  return LOOPBACK.has(address);
}

/** Whether an address is loopback or link-local (169.254.0.0/16 holds the cloud metadata services, fe80::/10). */
export function isLoopbackOrLinkLocal(address: string): boolean {
  return LOOPBACK.has(address) || LINK_LOCAL.has(address);
}

const LOOPBACK = new CidrSet(['127.0.0.0/8', '::1/128']);
const LINK_LOCAL = new CidrSet(['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '0.0.0.0/8', '::/128']);

function parseBlock(entry: string): Block {
  const [address, bits] = entry.split('/');
  const parsed = parseAddress(address);
  if (!parsed) throw new Error(`"${entry}" is not an IP address or CIDR block`);
  const max = parsed.family === 4 ? 32 : 128;
  return { ...parsed, bits: bits === undefined ? max : Math.min(max, Number(bits)) };
}

function prefixMatches(block: Block, groups: Uint16Array): boolean {
  let bits = block.bits;
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((block.groups[i] & mask) !== (groups[i] & mask)) return false;
  }
  return true;
}

function parseAddress(text: string): Parsed {
  if (text === lastText) return lastParsed;
  const parsed = parseUncached(text);
  lastText = text;
  lastParsed = parsed;
  return parsed;
}

function parseUncached(text: string): Parsed {
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(address);
  if (family === 4) return { family: 4, groups: ipv4Groups(address) };
  if (family !== 6) return null;
  const zoneless = address.split('%')[0];
  const groups = ipv6Groups(zoneless);
  // ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return { family: 4, groups: groups.slice(6) };
  }
  return { family: 6, groups };
}

/** The two 16-bit groups of a dotted quad (already validated by isIP), read without splitting it. */
function ipv4Groups(address: string): Uint16Array {
  const groups = new Uint16Array(2);
  let octet = 0;
  let index = 0;
  for (let i = 0; i <= address.length; i++) {
    const code = i < address.length ? address.charCodeAt(i) : 46;
    if (code !== 46) {
      octet = octet * 10 + (code - 48);
      continue;
    }
    groups[index >> 1] |= index & 1 ? octet : octet << 8;
    octet = 0;
    index++;
  }
  return groups;
}

function ipv6Groups(address: string): Uint16Array {
  let text = address;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...ipv4Groups(v4[1]));
    text = text.slice(0, -v4[1].length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::');
  const left = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  const right = rest === undefined || rest === '' ? [] : rest.split(':').map((g) => parseInt(g, 16));
  const fill = rest === undefined ? [] : new Array<number>(8 - left.length - right.length - tail.length).fill(0);
  return Uint16Array.from([...left, ...fill, ...right, ...tail]);
}
