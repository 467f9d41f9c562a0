const MAX_LINES = 5000;

/**
 * The yaml library re-emits a whole document when it is edited, normalising the spacing of lines
 * it did not touch (for example the gap before a trailing comment). This keeps every untouched
 * line byte for byte: `roundtrip` is the original re-emitted without edits, `edited` the same
 * with the edit; lines the edit did not change are taken from the original text.
 */
export function preserveUntouchedLines(original: string, roundtrip: string, edited: string): string {
  const before = original.split('\n');
  const plain = roundtrip.split('\n');
  const after = edited.split('\n');
  // Only when re-emitting kept the line structure can lines be mapped one to one.
  if (before.length !== plain.length || plain.length > MAX_LINES || after.length > MAX_LINES) return edited;
  const n = plain.length;
  const m = after.length;
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = plain[i] === after[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (plain[i] === after[j]) {
      out.push(before[i]);
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      i++;
    } else {
      out.push(after[j]);
      j++;
    }
  }
  while (j < m) out.push(after[j++]);
  return out.join('\n');
}
