import type { Document, LineCounter, Node } from 'yaml';
import { isMap, isNode, isPair, isScalar } from 'yaml';

/** A key path inside the document (`rules[2].backend`). */
export type KeyPath = (string | number)[];

/** Formats a key path the way a person reads it: `rules[2].match.domains[0]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(top level)' : out;
}

/** Locates nodes of a parsed YAML document by key path and turns offsets into line:column. */
export class PositionFinder {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** line:column of the value at `path`, or of its nearest existing parent. */
  valueAt(path: KeyPath): string {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? this.doc.contents : (this.doc.getIn(path.slice(0, depth), true) as unknown);
      if (isNode(node) && node.range) return this.at(node.range[0]);
    }
    return '1:1';
  }

  /** line:column of the key `key` inside the mapping at `path` (falls back to the mapping). */
  keyAt(path: KeyPath, key: string): string {
    const parent = path.length === 0 ? this.doc.contents : (this.doc.getIn(path, true) as unknown);
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isPair(item) && isScalar(item.key) && item.key.value === key && item.key.range) return this.at(item.key.range[0]);
      }
    }
    return this.valueAt(path);
  }

  /** line:column of a node. */
  nodeAt(node: Node): string {
    return node.range ? this.at(node.range[0]) : '1:1';
  }

  /** line:column of a character offset. */
  at(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${line}:${col}`;
  }
}

/** Edit distance counting a swap of two neighbours as one edit (`stauts` is one from `status`); small strings only: keys, names, commands. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** ` (did you mean "x"?)` for the closest candidate within a small edit distance, or ''. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(input.length / 3));
  return best !== null && bestDistance <= limit && bestDistance < input.length ? ` (did you mean "${best}"?)` : '';
}
