import type { BackendSpec, ConfigSnapshot } from './model.js';

/** What a reload would change. */
export interface ConfigDiff {
  rulesAdded: string[];
  rulesRemoved: string[];
  rulesChanged: string[];
  /** True when the rules present in both appear in another order. */
  rulesReordered: boolean;
  backendsAdded: string[];
  backendsRemoved: string[];
  backendsChanged: string[];
  /** Settings that changed but need a restart. */
  restartRequired: string[];
  /** Every other section that changed (network, rate_limiting, access_control, access_log, metrics, server.log_level, …). */
  settingsChanged: string[];
}

const json = (v: unknown): string => JSON.stringify(v);

/**
 * Compares two snapshots the way a reload would apply them. `running` is what the daemon really
 * runs for the settings only a restart changes (the snapshot it started with): a restart is
 * asked for only where the file differs from that, not from the last reloaded file.
 */
export function diffConfigs(before: ConfigSnapshot, after: ConfigSnapshot, running: ConfigSnapshot = before): ConfigDiff {
  const ruleNames = (s: ConfigSnapshot): string[] => s.rules.map((r) => r.name);
  const oldRules = new Map(before.rules.map((r) => [r.name, r]));
  const newRules = new Map(after.rules.map((r) => [r.name, r]));
  const kept = ruleNames(before).filter((n) => newRules.has(n));
  const keptAfter = ruleNames(after).filter((n) => oldRules.has(n));
  const oldBackends = new Map<string, BackendSpec>(before.backends.map((b) => [b.name, b]));
  const newBackends = new Map<string, BackendSpec>(after.backends.map((b) => [b.name, b]));
  return {
    rulesAdded: ruleNames(after).filter((n) => !oldRules.has(n)),
    rulesRemoved: ruleNames(before).filter((n) => !newRules.has(n)),
    rulesChanged: kept.filter((n) => json(oldRules.get(n)) !== json(newRules.get(n))),
    rulesReordered: json(kept) !== json(keptAfter),
    backendsAdded: [...newBackends.keys()].filter((n) => !oldBackends.has(n)),
    backendsRemoved: [...oldBackends.keys()].filter((n) => !newBackends.has(n)),
    backendsChanged: [...newBackends.keys()].filter((n) => oldBackends.has(n) && json(oldBackends.get(n)) !== json(newBackends.get(n))),
    restartRequired: restartRequired(running, after),
    settingsChanged: changedSections(before.raw, after.raw),
  };
}

/** Every section of the file whose effective value changed (`server.*`/`client.*` key by key), rules and backends aside. */
function changedSections(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const changed: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === 'rules' || key === 'backends' || json(before[key]) === json(after[key])) continue;
    const a = before[key];
    const b = after[key];
    const nested = (key === 'server' || key === 'client') && isRecord(a) && isRecord(b);
    if (nested) for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) if (json(a[sub]) !== json(b[sub])) changed.push(`${key}.${sub}`);
    if (!nested) changed.push(key);
  }
  return changed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Settings whose change needs a restart to take effect (README "Use it", reload). */
export function restartRequired(before: ConfigSnapshot, after: ConfigSnapshot): string[] {
  const changes: string[] = [];
  const key = (s: ConfigSnapshot): string => json(s.listeners.map((l) => [l.kind, l.host, l.port]));
  if (key(before) !== key(after)) changes.push('listeners (ports, bind address)');
  // New certificate files are served at once; only turning TLS on or off changes the listener.
  const tls = (s: ConfigSnapshot): string => json(s.listeners.map((l) => l.tls !== undefined));
  if (tls(before) !== tls(after)) changes.push('server.tls (TLS on or off)');
  const authMode = (s: ConfigSnapshot): unknown => s.auth.mode;
  if (authMode(before) !== authMode(after)) changes.push('server.auth.mode');
  if (before.workers !== after.workers) changes.push('workers');
  return changes;
}
