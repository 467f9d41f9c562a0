import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { roleDefaults, type Role } from '../role.js';
import { matchProblems } from '../routing/match-problems.js';
import { describeShadowed, shadowedRules } from '../routing/shadowing.js';
import { authProblems, authWarnings } from '../auth/auth-settings.js';
import { NOT_SUPPORTED, presentNotYetEffective } from './features.js';
import type { ConfigSnapshot } from './model.js';
import { normalizeClient, normalizeServer } from './normalize.js';
import { runtimeSections } from './sections.js';
import { didYouMean, formatPath, PositionFinder, type KeyPath } from './problems.js';
import { exposedFileWarning, holdsClearSecrets, ovpnHoldsSecrets } from './secret-file-modes.js';
import { tunnelFileProblem } from './tunnel-files.js';
import { normalizeSource, sourceProblems } from './source-schema.js';
import { clientConfigSchema, serverConfigSchema, type ClientConfig, type ServerConfig } from './schema.js';

/** Where a configuration was found, and how (flag, env, cwd, user dir, system dir, or embedded). */
export interface ConfigLocation {
  path: string | null;
  origin: 'flag' | 'env' | 'cwd' | 'user' | 'system' | 'embedded';
}

/** Options of a load. */
export interface LoadOptions {
  /** Treat what would be a warning about an unusable backend (a missing tunnel file) as an error. */
  strict?: boolean;
  /** Environment for `${VAR}` substitution (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Leave `${VAR}` of unset variables as written instead of failing: for validating an edit made
   * by a process that does not have the daemon's environment.
   */
  keepUnsetVariables?: boolean;
  /**
   * Hands over the problems found once the file has the right shape (wrong references, tunnel
   * files under `strict`) instead of throwing them, and returns the snapshot anyway: for
   * `config validate`, which adds the checks `start` makes and reports everything at once.
   */
  onProblems?: (problems: string[]) => void;
  /** The URL the text was fetched from (`config.source`): problems name it instead of the file. */
  origin?: string;
}

/**
 * Finds the config file: `--config`, `$SIMPLE_PROXY_CONFIG`, `./<role>-config.yaml`,
 * the user config dir, `/etc/simple-proxy/`; null path means the embedded default.
 */
export async function locateConfig(role: Role, flagPath?: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigLocation> {
  if (flagPath) return { path: resolve(flagPath), origin: 'flag' };
  if (env.SIMPLE_PROXY_CONFIG) return { path: resolve(env.SIMPLE_PROXY_CONFIG), origin: 'env' };
  const name = roleDefaults(role).configFileName;
  const candidates: [string, ConfigLocation['origin']][] = [
    [resolve(name), 'cwd'],
    [join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'simple-proxy', name), 'user'],
    [join('/etc/simple-proxy', name), 'system'],
  ];
  for (const [path, origin] of candidates) if (existsSync(path)) return { path, origin };
  return { path: null, origin: 'embedded' };
}

/** Loads, substitutes `${VAR}`, validates and normalises a config file (or the embedded default when path is null). */
export async function loadConfig(path: string | null, role: Role, options: LoadOptions = {}): Promise<ConfigSnapshot> {
  if (path === null) return parseConfigText('', null, role, options);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? (error as Error).message;
    throw new ConfigError(`${path}: cannot read the config file: ${why}`);
  }
  return parseConfigText(text, path, role, options);
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Validates an in-memory config text as if it were the file at `path` (null: the embedded default). */
export function parseConfigText(text: string, path: string | null, role: Role, options: LoadOptions = {}): ConfigSnapshot {
  const env = options.env ?? process.env;
  const file = options.origin ?? (path === null ? '(embedded default)' : basename(path));
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const positions = new PositionFinder(doc, lineCounter);
  const problems: string[] = [];
  const report = (where: string, keyPath: KeyPath | null, message: string): void => {
    problems.push(`${file}:${where}: ${keyPath === null ? '' : `${formatPath(keyPath)}: `}${message}`);
  };

  // Only the first syntax error: the ones after it are mostly its echoes.
  const syntax = doc.errors[0];
  if (syntax) report(positions.at(syntax.pos[0]), null, `YAML syntax error: ${syntax.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  if (problems.length > 0) throw fail(problems);

  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(VARIABLE, (_all: string, name: string, fallback: string | undefined) => {
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        if (options.keepUnsetVariables) return _all;
        report(positions.nodeAt(node), null, `environment variable ${name} is not set (used as \${${name}})`);
        return '';
      });
    },
  });

  // Unset variables and the shape of the file are reported together; a value left empty by an
  // unset variable is not reported twice.
  const unset = problems.length;
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    report('1:1', null, 'expected a mapping of sections (like "server:" and "rules:") at the top level');
    throw fail(problems);
  }
  const schema = role === 'server' ? serverConfigSchema : clientConfigSchema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const emptied = new Set(problems.map((p) => p.split(': ')[0]));
    for (const issue of parsed.error.issues) {
      describeIssue(issue, raw, schema, positions, (where, keyPath, message) => {
        if (!emptied.has(`${file}:${where}`)) report(where, keyPath, message);
      });
    }
    throw fail(problems);
  }
  if (unset > 0) throw fail(problems);
  for (const [keyPath, message] of sourceProblems(raw as Record<string, unknown>, options.origin !== undefined)) report(positions.keyAt([], String(keyPath[0])), keyPath, message);
  if (problems.length > 0) throw fail(problems);
  const config = parsed.data;
  // Relative files (the debug log) live beside the config file; the embedded default uses the working directory.
  const baseDir = path === null ? process.cwd() : dirname(resolve(path));
  const model = role === 'server' ? normalizeServer(config as ServerConfig, baseDir) : normalizeClient(config as ClientConfig, baseDir);
  const warnings: string[] = [];

  const backendPath = role === 'server' ? 'backends' : null;
  const names = new Map<string, number>();
  model.backends.forEach((b, i) => {
    if (backendPath === null) return;
    if (names.has(b.name)) report(positions.valueAt(['backends', i, 'name']), ['backends', i, 'name'], `duplicate backend name "${b.name}" (first defined at backends[${names.get(b.name)}])`);
    else names.set(b.name, i);
  });
  const ruleNames = new Map<string, number>();
  const known = model.backends.map((b) => b.name);
  const setNames = new Map<string, number>();
  ((config as ServerConfig | ClientConfig).rule_sets ?? []).forEach((set, i) => {
    if (setNames.has(set.name)) report(positions.valueAt(['rule_sets', i, 'name']), ['rule_sets', i, 'name'], `duplicate rule set name "${set.name}" (first defined at rule_sets[${setNames.get(set.name)}])`);
    else setNames.set(set.name, i);
  });
  const rulesRaw = (config as ServerConfig | ClientConfig).rules;
  rulesRaw.forEach((rule, i) => {
    if (ruleNames.has(rule.name)) report(positions.valueAt(['rules', i, 'name']), ['rules', i, 'name'], `duplicate rule name "${rule.name}" (first defined at rules[${ruleNames.get(rule.name)}])`);
    else ruleNames.set(rule.name, i);
    for (const [keyPath, message] of matchProblems(rule.match, ['rules', i, 'match'], setNames)) report(positions.valueAt(keyPath), keyPath, message);
    if (role === 'server') {
      const r = rule as ServerConfig['rules'][number];
      const refs: [KeyPath, string][] = r.backend !== undefined ? [[['rules', i, 'backend'], r.backend]] : (r.backends ?? []).map((m, k) => [['rules', i, 'backends', k, 'name'], m.name]);
      for (const [keyPath, name] of refs) {
        if (!names.has(name)) report(positions.valueAt(keyPath), keyPath, `unknown backend "${name}"${didYouMean(name, known)}${known.length ? ` (defined: ${known.join(', ')})` : ''}`);
      }
    } else if ((rule as ClientConfig['rules'][number]).action === 'server' && !(config as ClientConfig).server) {
      report(positions.valueAt(['rules', i, 'action']), ['rules', i, 'action'], '"server" needs a "server:" section with the address of the simple-proxy server');
    }
  });
  if (role === 'server') {
    for (const [keyPath, message] of authProblems((config as ServerConfig).server.auth)) report(positions.valueAt(keyPath), keyPath, message);
    warnings.push(...authWarnings((config as ServerConfig).server.auth, known));
  }

  // The tunnel files are checked even when a reference is wrong: every problem in one report.
  warnings.push(...shadowedRules(model.rules).map(describeShadowed), ...proxyPingWarnings(model.backends));
  const base = path === null ? process.cwd() : dirname(path);
  model.backends.forEach((b, i) => {
    if (b.type !== 'wireguard' && b.type !== 'openvpn') return;
    const file = resolve(base, b.configFile);
    b.configFile = file;
    if (b.type === 'openvpn' && b.authFile) b.authFile = resolve(base, b.authFile);
    const problem = tunnelFileProblem(b.type, file);
    const exposed = [b.type === 'wireguard' || ovpnHoldsSecrets(file) ? exposedFileWarning(file, `${b.type} config file of backend "${b.name}"`) : null, b.type === 'openvpn' && b.authFile ? exposedFileWarning(b.authFile, `openvpn auth file of backend "${b.name}"`) : null];
    for (const warning of exposed) if (warning && !problem) warnings.push(warning);
    b.fileHash = contentHash([file, b.type === 'openvpn' ? b.authFile : undefined]);
    if (!problem) return;
    const keyPath: KeyPath = ['backends', i, b.type, 'config_file'];
    if (options.strict) report(positions.valueAt(keyPath), keyPath, problem);
    else {
      b.unavailable = problem;
      warnings.push(`backend "${b.name}" is unavailable: ${problem}`);
    }
  });
  if (problems.length > 0 && options.onProblems) options.onProblems(problems);
  else if (problems.length > 0) throw fail(problems);

  const exposedConfig = path !== null && options.origin === undefined && holdsClearSecrets(text) ? exposedFileWarning(resolve(path), 'config file') : null;
  if (exposedConfig) warnings.push(exposedConfig);
  if (model.metrics && model.metrics.port === undefined) {
    warnings.push('metrics.enabled is true but metrics.port is not set: metrics are served only on the control socket (GET /metrics), with no address for Prometheus to scrape and no /health endpoints; set metrics.port (for example 9090) to serve them');
  }
  const notYet = presentNotYetEffective(raw);
  if (notYet.length > 0) warnings.push(`no effect yet: ${notYet.join(', ')}`);
  for (const [key, text] of Object.entries(NOT_SUPPORTED)) if ((raw as Record<string, unknown>)[key] !== undefined) warnings.push(text);

  const validated = config as Record<string, unknown>;
  const version = createHash('sha256').update(JSON.stringify({ role, validated })).digest('hex').slice(0, 12);
  const configSource = normalizeSource((config as ServerConfig | ClientConfig).config, baseDir);
  return { ...model, ...runtimeSections(role, validated), source: path === null ? null : resolve(path), ...(configSource ? { configSource } : {}), version, loadedAt: Date.now(), warnings, raw: validated };
}

/** One ConfigError for problems found in different checks, in file order. */
export function configProblems(unsorted: string[]): ConfigError {
  return fail(unsorted);
}

function fail(unsorted: string[]): ConfigError {
  // In file order, the way a person fixes them.
  const position = (p: string): number[] => (/^[^:]*:(\d+):(\d+):/.exec(p) ?? [0, 0, 0]).slice(1).map(Number);
  const problems = [...unsorted].sort((a, b) => position(a)[0] - position(b)[0] || position(a)[1] - position(b)[1]);
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return new ConfigError(`${problems[0]}${more}`, problems);
}

/** A short hash of the files' contents (unreadable ones count as empty), to notice edits on reload. */
function contentHash(files: (string | undefined)[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    if (!file) continue;
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('-');
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/** A warning for each upstream proxy checked by ping: ICMP cannot be proxied, so the check reaches only the proxy host. */
function proxyPingWarnings(backends: ConfigSnapshot['backends']): string[] {
  return backends.flatMap((b) =>
    (b.type === 'http' || b.type === 'socks5') && b.healthCheck?.type === 'ping'
      ? [`backend "${b.name}": its ping check pings the proxy host ${b.host} from this host, not through the proxy; a tcp or http check tests the path through it`]
      : [],
  );
}

type Issue = z.core.$ZodIssue;

/** Where a key belongs when it sits at the wrong level: auth snippets written elsewhere put `auth:` at the top, the server reads `server.auth`. */
function misplacedHint(path: KeyPath, key: string, allowed: readonly string[]): string {
  return path.length === 0 && key === 'auth' && allowed.includes('server') ? ' (authentication goes under "server:": nest this block as server.auth)' : '';
}

/** Turns one schema issue into a located, readable problem. */
function describeIssue(issue: Issue, raw: unknown, schema: z.ZodType, positions: PositionFinder, report: (where: string, path: KeyPath | null, message: string) => void): void {
  const path = issue.path as KeyPath;
  if (issue.code === 'unrecognized_keys') {
    const allowed = keysAt(schema, path);
    for (const key of issue.keys) report(positions.keyAt(path, key), [...path, key], `unknown key${misplacedHint(path, key, allowed) || didYouMean(key, allowed)}${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`);
    return;
  }
  const value = valueAt(raw, path);
  if (issue.code === 'invalid_type') {
    const message = issue.message.startsWith('Invalid input') ? `expected ${issue.expected}, got ${describe(value)}` : `${issue.message}, got ${describe(value)}`;
    report(positions.valueAt(path), path, value === undefined ? `missing (${message.replace(', got undefined', '')})` : message);
    return;
  }
  if (issue.code === 'invalid_value') {
    const values = issue.values.map((v) => String(v));
    report(positions.valueAt(path), path, `${JSON.stringify(value)} is not allowed${typeof value === 'string' ? didYouMean(value, values) : ''} (expected one of: ${values.map((v) => `"${v}"`).join(', ')})`);
    return;
  }
  report(positions.valueAt(path), path, issue.message);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(raw: unknown, path: KeyPath): unknown {
  let value = raw;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** The keys the schema allows at a path (for "did you mean"). */
function keysAt(schema: z.ZodType, path: KeyPath): string[] {
  let node = unwrap(schema);
  for (const part of path) {
    const def = node._zod.def as unknown as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType };
    if (def.type === 'object' && typeof part === 'string' && def.shape?.[part]) node = unwrap(def.shape[part]);
    else if (def.type === 'array' && typeof part === 'number' && def.element) node = unwrap(def.element);
    else return [];
  }
  const def = node._zod.def as unknown as { type: string; shape?: Record<string, z.ZodType> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  for (;;) {
    const def = node._zod.def as unknown as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) node = def.innerType;
    else if (def.type === 'pipe' && def.in) node = def.in;
    else return node;
  }
}
