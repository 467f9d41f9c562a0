import { Document, isCollection, isMap, isPair, isScalar, isSeq, YAMLMap, YAMLSeq, type Node, type Pair } from 'yaml';

/** One replacement of the original text: [start, end) becomes `text`. */
interface Splice {
  start: number;
  end: number;
  text: string;
}

const json = (node: unknown): string => JSON.stringify(isCollection(node) || isScalar(node) ? node.toJSON() : node ?? null);

/**
 * Writes an edited document back as the original text with only the edited parts replaced, so
 * every other byte (flow sequences, quoting, long lists, blank lines, comments and their spacing)
 * stays as the person wrote it. `before` is the document as parsed from `original`; `after` is
 * a separate parse of the same text, edited. Block maps and sequences are compared entry by
 * entry: unchanged entries keep their text, removed ones lose their lines, new ones are written
 * with the indentation of their siblings, and a changed value is replaced where it stands.
 */
export function spliceEdit(original: string, before: Document, after: Document): string {
  if (!isMap(before.contents) || before.contents.flow || !isMap(after.contents)) return after.toString();
  const splices = new Differ(original).node(before.contents, after.contents);
  let text = original;
  for (const s of splices.sort((a, b) => b.start - a.start || b.end - a.end)) text = text.slice(0, s.start) + s.text + text.slice(s.end);
  return text;
}

class Differ {
  constructor(private readonly text: string) {}

  /** The splices turning `b` (with its place in the text) into `a`. */
  node(b: Node, a: Node): Splice[] {
    if (json(b) === json(a)) return [];
    if (isCollection(b) && !b.flow && isCollection(a) && a.items.length === 0) return [this.emptied(b, isSeq(a) ? '[]' : '{}')];
    if (isMap(b) && isMap(a) && !b.flow && b.items.length > 0) return this.map(b, a);
    if (isSeq(b) && isSeq(a) && !b.flow && b.items.length > 0) return this.seq(b, a);
    if (isMap(b) && isMap(a) && b.flow && json(b.items.map((p) => p.key)) === json(a.items.map((p) => p.key))) return this.flowMap(b, a);
    if (isSeq(b) && isSeq(a) && b.flow && b.items.length === a.items.length) return b.items.flatMap((item, i) => this.node(item as Node, a.items[i] as Node));
    return [this.replace(b, a)];
  }

  /** A flow map with the same keys: each changed value replaced where it stands. */
  private flowMap(b: YAMLMap, a: YAMLMap): Splice[] {
    return b.items.flatMap((pair, i) => {
      const next = a.items[i].value;
      if (isNode(pair.value) && isNode(next)) return this.node(pair.value, next);
      return json(pair.value) === json(next) ? [] : [this.replace(b, a)];
    });
  }

  /** Pairs matched by key: changed values diffed, removed pairs cut, new ones added after the last. */
  private map(b: YAMLMap, a: YAMLMap): Splice[] {
    const key = (pair: Pair): string => json(pair.key);
    const kept = new Map(b.items.map((pair) => [key(pair), pair]));
    const splices: Splice[] = [];
    const added: Pair[] = [];
    for (const pair of a.items) {
      const old = kept.get(key(pair));
      if (!old) added.push(pair);
      else if (isEmpty(old.value) && isCollection(pair.value) && pair.value.items.length > 0) splices.push(...this.fillEmpty(old, pair.value));
      else if (isNode(old.value) && isNode(pair.value)) splices.push(...this.node(old.value, pair.value));
      else if (json(old.value) !== json(pair.value)) return [this.replace(b, a)];
    }
    const remaining = new Set(a.items.map(key));
    for (const pair of b.items) {
      if (remaining.has(key(pair))) continue;
      const cut = this.pairLines(pair);
      if (!cut) return [this.replace(b, a)];
      splices.push(cut);
    }
    if (added.length > 0) {
      const last = b.items.at(-1)!;
      const column = this.column((last.key as Node).range![0]);
      const at = this.lineEnd(this.contentEnd(isNode(last.value) ? last.value : (last.key as Node)));
      const body = new YAMLMap();
      body.items = added;
      splices.push({ start: at, end: at, text: this.block(body, column, at) });
    }
    return splices;
  }

  /** A block collection that lost every entry: ` []` (or ` {}`) after its key, in place of its lines. */
  private emptied(b: Node, empty: string): Splice {
    let from = b.range![0];
    while (from > 0 && /\s/.test(this.text[from - 1])) from--;
    const end = this.lineEnd(this.contentEnd(b));
    return { start: from, end: this.text[end - 1] === '\n' ? end - 1 : end, text: ` ${empty}` };
  }

  /** An empty value (`key:` alone, or `[]`) given a collection: written as block lines under the key. */
  private fillEmpty(pair: Pair, value: Node): Splice[] {
    const key = pair.key as Node;
    const empty = pair.value as Node;
    const at = this.lineEnd(key.range![0]);
    let from = empty.range?.[0] ?? 0;
    while (from > 0 && this.text[from - 1] === ' ') from--;
    const cut = empty.range && empty.range[1] > empty.range[0] ? [{ start: from, end: empty.range[1], text: '' }] : [];
    if (isCollection(value)) value.flow = false;
    return [...cut, { start: at, end: at, text: this.block(value, this.column(key.range![0]) + 2, at) }];
  }

  /** Items matched in order (longest common run); the rest are changed in place, cut or added. */
  private seq(b: YAMLSeq, a: YAMLSeq): Splice[] {
    const bKeys = b.items.map(json);
    const aKeys = a.items.map(json);
    const common = lcs(bKeys, aKeys);
    const column = this.indentAt((b.items[0] as Node).range![0]);
    // Items the person separated with blank lines get a new one set off the same way.
    const separated = b.items.some((item, index) => {
      const gap = this.text.slice(this.blockStart(b, index), this.lineStart((item as Node).range![0]));
      return index > 0 && gap !== '' && gap.trim() === '';
    });
    const splices: Splice[] = [];
    let i = 0;
    let j = 0;
    for (const [bi, aj] of [...common, [b.items.length, a.items.length]]) {
      // b.items[i..bi) became a.items[j..aj): pair them up in place, cut or add the rest.
      const pairs = Math.min(bi - i, aj - j);
      for (let k = 0; k < pairs; k++) splices.push(...this.node(b.items[i + k] as Node, a.items[j + k] as Node));
      for (let k = i + pairs; k < bi; k++) splices.push(this.itemLines(b, k));
      if (j + pairs < aj) {
        const at = i + pairs > 0 ? this.lineEnd(this.contentEnd(b.items[i + pairs - 1] as Node)) : this.lineStart((b.items[0] as Node).range![0]);
        const texts = a.items.slice(j + pairs, aj).map((item) => this.reused(b, item as Node) ?? this.block(seqOf([item as Node]), column, at));
        const joined = texts.map((t, k) => (separated && (k > 0 || i + pairs > 0) ? `\n${t}` : t)).join('');
        splices.push({ start: at, end: at, text: i + pairs === 0 && separated ? `${joined}\n` : joined });
      }
      i = bi + 1;
      j = aj + 1;
    }
    return splices;
  }

  /** The original lines of an item of `b` equal to `item` (a moved item keeps its text), or null. */
  private reused(b: YAMLSeq, item: Node): string | null {
    const index = b.items.findIndex((old) => json(old) === json(item));
    if (index === -1) return null;
    const node = b.items[index] as Node;
    const start = this.lineStart(node.range![0]);
    return this.text.slice(start, this.lineEnd(this.contentEnd(node)));
  }

  /** A new value written where the old one stood, in the old one's style (quotes; a collection in flow style on the old value's place). */
  private replace(b: Node, a: Node): Splice {
    adoptStyle(b, a);
    if (isCollection(a)) a.flow = true;
    const padded = /^[[{] /.test(this.text.slice(b.range![0], b.range![1]));
    return { start: b.range![0], end: this.valueEnd(b), text: render(a, { flowCollectionPadding: padded }).trimEnd() };
  }

  /** Lines of the item `index` of `b`, with the blank and comment lines between it and the item before. */
  private itemLines(b: YAMLSeq, index: number): Splice {
    let end = this.lineEnd(this.contentEnd(b.items[index] as Node));
    // The first item takes the blank lines after it, so the next one does not start with a gap.
    if (index === 0) while (end < this.text.length && /^[ \t]*\n/.test(this.text.slice(end, this.lineEnd(end)))) end = this.lineEnd(end);
    return { start: this.blockStart(b, index), end, text: '' };
  }

  private blockStart(b: YAMLSeq, index: number): number {
    const item = b.items[index] as Node;
    return index === 0 ? this.lineStart(item.range![0]) : this.lineEnd(this.contentEnd(b.items[index - 1] as Node));
  }

  /** The whole lines of a pair that starts its own line, or null when it shares its first line. */
  private pairLines(pair: Pair): Splice | null {
    const key = pair.key as Node;
    const start = this.lineStart(key.range![0]);
    if (this.text.slice(start, key.range![0]).trim() !== '') return null;
    return { start, end: this.lineEnd(this.contentEnd(isNode(pair.value) ? pair.value : key)), text: '' };
  }

  /** `node` written as block lines at `column`, ending with a newline. */
  private block(node: Node, column: number, at: number): string {
    const pad = ' '.repeat(column);
    const lines = render(node, {}).trimEnd().split('\n').map((line) => (line === '' ? line : pad + line));
    const lead = at > 0 && this.text[at - 1] !== '\n' ? '\n' : '';
    return `${lead}${lines.join('\n')}\n`;
  }

  private contentEnd(node: Node): number {
    let end = node.range![1];
    while (end > node.range![0] && /\s/.test(this.text[end - 1])) end--;
    return end;
  }

  /** Where the old value's text ends (before trailing space and comments of its line). */
  private valueEnd(node: Node): number {
    return isCollection(node) && !node.flow ? this.lineEnd(this.contentEnd(node)) : this.contentEnd(node);
  }

  private lineStart(offset: number): number {
    return this.text.lastIndexOf('\n', offset - 1) + 1;
  }

  private lineEnd(offset: number): number {
    const newline = this.text.indexOf('\n', offset);
    return newline === -1 ? this.text.length : newline + 1;
  }

  private column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  /** Where the item's dash stands on its line (its indentation). */
  private indentAt(offset: number): number {
    const start = this.lineStart(offset);
    return /^ */.exec(this.text.slice(start, offset))![0].length;
  }
}

/** `key:` with nothing, or an empty flow collection. */
function isEmpty(value: unknown): boolean {
  return (isScalar(value) && value.value === null) || (isCollection(value) && value.flow === true && value.items.length === 0);
}

function isNode(value: unknown): value is Node {
  return isCollection(value) || isScalar(value);
}

function seqOf(items: Node[]): YAMLSeq {
  const seq = new YAMLSeq();
  seq.items = items;
  return seq;
}

/** New scalars take the quoting of an old one with the same value, else of the old value's first. */
function adoptStyle(b: Node, a: Node): void {
  const oldScalars: { value: unknown; type?: string }[] = [];
  const collect = (node: unknown): void => {
    if (isScalar(node)) oldScalars.push({ value: node.value, type: node.type });
    else if (isCollection(node)) for (const item of node.items) collect(isPair(item) ? item.value : item);
  };
  collect(b);
  const fallback = oldScalars.find((s) => typeof s.value === 'string')?.type;
  const apply = (node: unknown): void => {
    if (isScalar(node) && typeof node.value === 'string' && node.type === undefined) node.type = (oldScalars.find((s) => s.value === node.value)?.type ?? fallback) as typeof node.type;
    else if (isCollection(node)) for (const item of node.items) apply(isPair(item) ? item.value : item);
  };
  apply(a);
}

function render(node: Node, options: { flowCollectionPadding?: boolean }): string {
  const doc = new Document();
  doc.contents = node;
  return doc.toString({ lineWidth: 0, ...options });
}

/** Index pairs of the longest common subsequence of two key lists. */
function lcs(a: string[], b: string[]): [number, number][] {
  const table = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (table[i + 1][j] >= table[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}
