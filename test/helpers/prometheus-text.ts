/**
 * Parses Prometheus text exposition into `name{label="v",…}` → value, with labels sorted by
 * name so tests do not depend on the order the exporter prints them in.
 */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = match[2] ? [...match[2].matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort() : [];
    out.set(labels.length > 0 ? `${match[1]}{${labels.join(',')}}` : match[1], Number(match[3]));
  }
  return out;
}

/** Every series name the exposition declares (`# TYPE`), with the _bucket/_sum/_count of histograms and summaries. */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(match[1]);
    if (match[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(match[1] + suffix);
    if (match[2] === 'summary') for (const suffix of ['_sum', '_count']) names.add(match[1] + suffix);
  }
  return names;
}
