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
  /** Other settings that changed (network, timeouts, limits, log level, …). */
  settingsChanged: string[];
}

const json = (v: unknown): string => JSON.stringify(v);

/** Compares two snapshots the way a reload would apply them. */
export function diffConfigs(before: ConfigSnapshot, after: ConfigSnapshot): ConfigDiff {
  const ruleNames = (s: ConfigSnapshot): string[] => s.rules.map((r) => r.name);
  const oldRules = new Map(before.rules.map((r) => [r.name, r]));
  const newRules = new Map(after.rules.map((r) => [r.name, r]));
  const kept = ruleNames(before).filter((n) => newRules.has(n));
  const keptAfter = ruleNames(after).filter((n) => oldRules.has(n));
  const oldBackends = new Map<string, BackendSpec>(before.backends.map((b) => [b.name, b]));
  const newBackends = new Map<string, BackendSpec>(after.backends.map((b) => [b.name, b]));
  const settings: [string, unknown, unknown][] = [
    ['network', before.network, after.network],
    ['shutdown', before.shutdown, after.shutdown],
    ['reload', before.reload, after.reload],
    ['log_level', before.logLevel, after.logLevel],
  ];
  return {
    rulesAdded: ruleNames(after).filter((n) => !oldRules.has(n)),
    rulesRemoved: ruleNames(before).filter((n) => !newRules.has(n)),
    rulesChanged: kept.filter((n) => json(oldRules.get(n)) !== json(newRules.get(n))),
    rulesReordered: json(kept) !== json(keptAfter),
    backendsAdded: [...newBackends.keys()].filter((n) => !oldBackends.has(n)),
    backendsRemoved: [...oldBackends.keys()].filter((n) => !newBackends.has(n)),
    backendsChanged: [...newBackends.keys()].filter((n) => oldBackends.has(n) && json(oldBackends.get(n)) !== json(newBackends.get(n))),
    restartRequired: restartRequired(before, after),
    settingsChanged: settings.filter(([, a, b]) => json(a) !== json(b)).map(([name]) => name),
  };
}

/** Settings whose change needs a restart to take effect (spec 13.2). */
export function restartRequired(before: ConfigSnapshot, after: ConfigSnapshot): string[] {
  const changes: string[] = [];
  const key = (s: ConfigSnapshot): string => json(s.listeners.map((l) => [l.kind, l.host, l.port]));
  if (key(before) !== key(after)) changes.push('listeners (ports, bind address)');
  // New certificate files are served at once; only turning TLS on or off changes the listener.
  const tls = (s: ConfigSnapshot): string => json(s.listeners.map((l) => l.tls !== undefined));
  if (tls(before) !== tls(after)) changes.push('server.tls (TLS on or off)');
  const authMode = (s: ConfigSnapshot): unknown => (s.raw.server as { auth?: { mode?: string } } | undefined)?.auth?.mode ?? 'none';
  if (authMode(before) !== authMode(after)) changes.push('server.auth.mode');
  if (before.workers !== after.workers) changes.push('workers');
  return changes;
}
