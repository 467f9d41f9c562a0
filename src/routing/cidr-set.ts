import { compareWords, parseCidr, writeIpWords } from './ip-address.js';

/** The typed arrays of a built CidrSet: plain data, so that a worker thread can build it and transfer it. */
export interface CidrSetData {
  /** First and last address of each block, 4 words each, sorted by first address (enclosing blocks first). */
  firsts: Uint32Array;
  lasts: Uint32Array;
  /** Index of the nearest enclosing block, or -1. */
  parents: Int32Array;
}

/** Builds the arrays of a set from CIDR texts; throws naming the first malformed one (with its 1-based line when given). */
export function buildCidrData(blocks: readonly string[], lines?: readonly number[]): CidrSetData {
  const n = blocks.length;
  const firsts = new Uint32Array(n * 4);
  const lasts = new Uint32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const parsed = parseCidr(blocks[i]);
    if (!parsed) throw new Error(`${lines ? `line ${lines[i]}: ` : ''}"${blocks[i]}" is not an IP address or CIDR block (like "10.0.0.0/8" or "2001:db8::/32")`);
    firsts.set(parsed.first, i * 4);
    lasts.set(parsed.last, i * 4);
  }
  // Sorted by first address, the larger block first on a tie, so that a block's enclosing blocks precede it.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareWords(firsts, a * 4, firsts, b * 4) || compareWords(lasts, b * 4, lasts, a * 4));
  const sortedFirsts = new Uint32Array(n * 4);
  const sortedLasts = new Uint32Array(n * 4);
  order.forEach((from, to) => {
    sortedFirsts.set(firsts.subarray(from * 4, from * 4 + 4), to * 4);
    sortedLasts.set(lasts.subarray(from * 4, from * 4 + 4), to * 4);
  });
  // CIDR blocks nest or are disjoint: a stack of open blocks gives each its nearest enclosing one.
  const parents = new Int32Array(n);
  const open: number[] = [];
  for (let i = 0; i < n; i++) {
    while (open.length > 0 && compareWords(sortedLasts, open[open.length - 1] * 4, sortedFirsts, i * 4) < 0) open.pop();
    parents[i] = open.length > 0 ? open[open.length - 1] : -1;
    open.push(i);
  }
  return { firsts: sortedFirsts, lasts: sortedLasts, parents };
}

/** Scratch words for the address looked up: lookups allocate nothing. */
const probe = new Uint32Array(4);

/**
 * A set of IPv4 and IPv6 blocks with lookup in O(log n): binary search for the last block that
 * starts at or before the address, then up its enclosing blocks (at most 128 deep) to the
 * innermost one that contains it. About 36 bytes per block.
 */
export class CidrSet {
  constructor(private readonly data: CidrSetData) {}

  /** A set of the given blocks (IP addresses or CIDR blocks). */
  static of(blocks: readonly string[]): CidrSet {
    return new CidrSet(buildCidrData(blocks));
  }

  /** How many blocks it holds. */
  get size(): number {
    return this.data.parents.length;
  }

  /** The index of the innermost block holding the address, or -1 (also when it is not an IP literal). */
  lookup(address: string): number {
    if (this.data.parents.length === 0 || !writeIpWords(address, probe)) return -1;
    const { firsts, lasts, parents } = this.data;
    let low = 0;
    let high = parents.length - 1;
    let at = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compareWords(firsts, mid * 4, probe, 0) <= 0) {
        at = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    while (at !== -1 && compareWords(lasts, at * 4, probe, 0) < 0) at = parents[at];
    return at;
  }

  /** Block `index` written as CIDR (`10.0.0.0/8`, `2001:db8::/32`). */
  describe(index: number): string {
    const first = this.data.firsts.subarray(index * 4, index * 4 + 4);
    const last = this.data.lasts.subarray(index * 4, index * 4 + 4);
    let bits = 128;
    for (let w = 0; w < 4; w++) {
      const span = (first[w] ^ last[w]) >>> 0;
      if (span === 0) continue;
      // The first word that varies holds the end of the prefix; every later word varies fully.
      bits = w * 32 + Math.clz32(span);
      break;
    }
    const mapped = first[0] === 0 && first[1] === 0 && first[2] === 0xffff && bits >= 96;
    if (mapped) return `${[24, 16, 8, 0].map((s) => (first[3] >>> s) & 255).join('.')}/${bits - 96}`;
    const groups = Array.from({ length: 8 }, (_, g) => ((first[g >> 1] >>> (g % 2 === 0 ? 16 : 0)) & 0xffff).toString(16));
    return `${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:::+/, '::')}/${bits}`;
  }
}
