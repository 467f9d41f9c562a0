import { isIpLiteral, normalizeHost } from './domain-pattern.js';

/** Entry kinds, as bit flags: the name itself, and every name under it. */
export const EXACT = 1;
export const SUFFIX = 2;

/** The typed arrays of a built DomainSet: plain data, so that a worker thread can build it and transfer it. */
export interface DomainSetData {
  /** Every name (ASCII, lower case) back to back. */
  bytes: Uint8Array;
  /** Where name i starts in bytes (n + 1 entries). */
  offsets: Uint32Array;
  /** EXACT and/or SUFFIX per name. */
  kinds: Uint8Array;
  /** Open-addressing hash table of name index + 1 (0: empty), size a power of two at least twice n. */
  table: Int32Array;
}

/** FNV-1a of text[from, to): no substring is made. */
function hash(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Builds the arrays of a set from normalised names and their kinds (a name given twice keeps both kinds). */
export function buildDomainData(names: readonly string[], kinds: readonly number[]): DomainSetData {
  let capacity = 16;
  while (capacity < names.length * 2) capacity *= 2;
  const mask = capacity - 1;
  // The table first holds positions in `names` (+1); duplicates merge their kinds into the first.
  const table = new Int32Array(capacity);
  const flags = new Uint8Array(names.length);
  const kept = new Int32Array(names.length).fill(-1);
  let n = 0;
  let total = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    let slot = hash(name, 0, name.length) & mask;
    let duplicate = false;
    for (let j = table[slot]; j !== 0; j = table[slot]) {
      if (names[j - 1] === name) {
        flags[j - 1] |= kinds[i];
        duplicate = true;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (duplicate) continue;
    table[slot] = i + 1;
    flags[i] = kinds[i];
    kept[i] = n++;
    total += name.length;
  }
  const offsets = new Uint32Array(n + 1);
  const bytes = new Uint8Array(total);
  const kindOf = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const index = kept[i];
    if (index === -1) continue;
    const name = names[i];
    offsets[index] = at;
    kindOf[index] = flags[i];
    for (let c = 0; c < name.length; c++) bytes[at + c] = name.charCodeAt(c);
    at += name.length;
  }
  offsets[n] = at;
  // Then it is rewritten to hold positions in the kept arrays.
  for (let slot = 0; slot < capacity; slot++) if (table[slot] !== 0) table[slot] = kept[table[slot] - 1] + 1;
  return { bytes, offsets, kinds: kindOf, table };
}

/**
 * A set of domain names and domain suffixes kept in a few flat arrays (the names' bytes, their
 * offsets, one byte of kind and an open-addressing table of 32-bit slots: about 25 bytes per
 * name beyond its characters), so that a million names stay a few tens of megabytes and a lookup
 * probes the table once per label of the host, whatever the set's size.
 */
export class DomainSet {
  private readonly mask: number;

  constructor(private readonly data: DomainSetData) {
    this.mask = data.table.length - 1;
  }

  /** A set of patterns as rules write them: `example.com` (that name) or `*.example.com` (it and every name under it). */
  static of(entries: readonly { name: string; kind: number }[]): DomainSet {
    return new DomainSet(buildDomainData(entries.map((e) => e.name), entries.map((e) => e.kind)));
  }

  /** How many distinct names it holds. */
  get size(): number {
    return this.data.kinds.length;
  }

  /** The index of the entry matching the host (the name itself first, then its parents), or -1. */
  lookup(host: string): number {
    if (this.data.kinds.length === 0) return -1;
    const name = normalizeHost(host);
    const exact = this.find(name, 0);
    if (exact !== -1 && (this.data.kinds[exact] & (EXACT | SUFFIX)) !== 0) return exact;
    if (isIpLiteral(name)) return -1;
    for (let at = name.indexOf('.') + 1; at > 0; at = name.indexOf('.', at) + 1) {
      const parent = this.find(name, at);
      if (parent !== -1 && (this.data.kinds[parent] & SUFFIX) !== 0) return parent;
    }
    return -1;
  }

  /** Entry `index` as a rule would write it (`example.com`, `*.example.com`). */
  describe(index: number): string {
    const { bytes, offsets, kinds } = this.data;
    const name = String.fromCharCode(...bytes.subarray(offsets[index], offsets[index + 1]));
    return kinds[index] & SUFFIX ? `*.${name}` : name;
  }

  /** The index of name[from..] in the set, or -1. */
  private find(name: string, from: number): number {
    const { bytes, offsets, table } = this.data;
    const length = name.length - from;
    let slot = hash(name, from, name.length) & this.mask;
    for (let entry = table[slot]; entry !== 0; entry = table[slot]) {
      const i = entry - 1;
      const start = offsets[i];
      if (offsets[i + 1] - start === length) {
        let same = true;
        for (let c = 0; c < length; c++) {
          if (bytes[start + c] !== name.charCodeAt(from + c)) {
            same = false;
            break;
          }
        }
        if (same) return i;
      }
      slot = (slot + 1) & this.mask;
    }
    return -1;
  }
}
