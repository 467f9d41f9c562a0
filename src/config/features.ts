/**
 * Config keys whose feature has not landed yet. They are accepted (the spec's files must load)
 * and named in one startup warning, never silently ignored. Remove an entry when its feature lands.
 */
export const NOT_YET_EFFECTIVE: readonly string[] = [
  'network.timeouts.write',
  'network.keepalive.max_idle_conns',
];

/** Keys that will never have an effect in this product, with what to use instead. */
export const NOT_SUPPORTED: Readonly<Record<string, string>> = {
  tray: 'tray: not supported, use the dashboard command',
};

/** Whether a section is switched off (`enabled: false`): then it needs no effect. */
function disabled(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { enabled?: unknown }).enabled === false;
}

/** The not-yet-effective keys present in a raw (parsed, unvalidated) document, in list order. */
export function presentNotYetEffective(raw: unknown): string[] {
  const found: string[] = [];
  for (const key of NOT_YET_EFFECTIVE) {
    const values = lookup(raw, key.split('.'));
    if (values.some((v) => v !== undefined && !disabled(v))) found.push(key);
  }
  return found;
}

function lookup(value: unknown, parts: string[]): unknown[] {
  if (parts.length === 0) return [value];
  const [head, ...rest] = parts;
  if (typeof value !== 'object' || value === null) return [];
  if (head.endsWith('[]')) {
    const list = (value as Record<string, unknown>)[head.slice(0, -2)];
    return Array.isArray(list) ? list.flatMap((item) => lookup(item, rest)) : [];
  }
  return lookup((value as Record<string, unknown>)[head], rest);
}
