import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { ProxyError } from '../errors.js';
import type { Role } from '../role.js';
import type { BackendAdd, RuleAdd, RuleUpdate } from '../control/schemas.js';
import { writeFileAtomic, withFileLock } from './atomic-write.js';
import { parseConfigText } from './load.js';
import { spliceEdit } from './splice-edit.js';
import { remoteEditRefusal } from './source-schema.js';
import { authFileProblem, tunnelFileProblem } from './tunnel-files.js';
import type { ConfigSnapshot } from './model.js';
import type { MatchSpec } from './match-schema.js';
import { shadowedRules } from '../routing/shadowing.js';
import { defaultPosition, rulesOf, shadowedRefusal } from './rule-placement.js';

/** A change to a config document (mutates it in place; throws ProxyError when it does not apply). */
export type Edit = (doc: Document, role: Role) => void;

/** Options of an edit. */
export interface EditOptions {
  /** Keep an edit that leaves a rule unreachable (shadowed by an earlier rule) instead of refusing it. */
  allowShadowed?: boolean;
}

/**
 * Applies an edit to a config file: under the file lock, read, edit with the yaml Document API
 * (only the edited parts of the text change; see spliceEdit), validate the result as a
 * whole, then write it atomically. A change that does not validate, or that leaves a rule no
 * host can reach (unless allowed), is refused and the file is left as it was. Returns the
 * snapshot of the new content.
 */
export async function editConfigFile(path: string, role: Role, edit: Edit, options: EditOptions = {}): Promise<ConfigSnapshot> {
  return withFileLock(path, () => {
    const before = readFileSync(path, 'utf8');
    const doc = parseDocument(before);
    if (doc.errors.length > 0) throw new ProxyError('CONFIG_INVALID', `${path} does not parse; fix it before editing: ${doc.errors[0].message.split('\n')[0]}`);
    const remote = doc.getIn(['config', 'source', 'url']);
    if (remote !== undefined) throw remoteEditRefusal(String(remote));
    const shadowedBefore = new Set(shadowedRules(rulesOf(doc)).map((s) => s.rule));
    edit(doc, role);
    const after = spliceEdit(before, parseDocument(before), doc);
    const snapshot = parseConfigText(after, path, role, { keepUnsetVariables: true });
    const shadowed = shadowedRules(snapshot.rules).filter((s) => !shadowedBefore.has(s.rule));
    if (shadowed.length > 0 && !options.allowShadowed) throw shadowedRefusal(shadowed, snapshot.rules);
    writeFileAtomic(path, after);
    return snapshot;
  });
}

function rules(doc: Document): YAMLSeq {
  if (!doc.has('rules')) doc.set('rules', doc.createNode([]));
  const seq = doc.get('rules', true);
  if (!isSeq(seq)) throw new ProxyError('CONFIG_INVALID', '"rules" is not a list');
  return seq;
}

function findRule(seq: YAMLSeq, name: string): number {
  const index = seq.items.findIndex((item) => isMap(item) && item.get('name') === name);
  if (index === -1) {
    const names = seq.items.map((item) => (isMap(item) ? String(item.get('name')) : '?'));
    throw new ProxyError('NOT_FOUND', `no rule named "${name}" (rules: ${names.join(', ') || 'none'})`);
  }
  return index;
}

function target(role: Role, change: { backend?: string; action?: string }): Record<string, string> {
  if (role === 'client') {
    if (change.backend !== undefined) throw new ProxyError('BAD_REQUEST', 'client rules take --action server|direct|reject, not --backend');
    return change.action === undefined ? {} : { action: change.action };
  }
  if (change.action !== undefined && change.action !== 'reject') throw new ProxyError('BAD_REQUEST', 'server rules take --backend NAME or --action reject');
  if (change.action !== undefined && change.backend !== undefined) throw new ProxyError('BAD_REQUEST', 'a rule takes --backend NAME or --action reject, not both');
  if (change.action !== undefined) return { action: change.action };
  return change.backend === undefined ? {} : { backend: change.backend };
}

/** The `match:` of an added or changed rule: the match keys given, with the domains among them. */
function matchOf(change: { domains?: string[]; match?: MatchSpec }): MatchSpec | undefined {
  if (change.domains === undefined && change.match === undefined) return undefined;
  return { ...(change.domains !== undefined ? { domains: change.domains } : {}), ...change.match };
}

/** Adds a rule at `position` (0-based); without one, last, or just before a trailing catch-all (`*`) rule so that it can match. */
export function addRule(rule: RuleAdd): Edit {
  return (doc, role) => {
    const seq = rules(doc);
    if (seq.items.some((item) => isMap(item) && item.get('name') === rule.name)) throw new ProxyError('CONFLICT', `a rule named "${rule.name}" already exists`);
    const to = target(role, rule);
    if (Object.keys(to).length === 0) throw new ProxyError('BAD_REQUEST', role === 'client' ? 'a rule needs --action server|direct|reject' : 'a rule needs --backend NAME or --action reject');
    const match = matchOf(rule);
    if (match === undefined) throw new ProxyError('BAD_REQUEST', 'a rule needs something to match: --domain, --ip-cidr, --port, --source-cidr, --user, --group, --protocol or --rule-set');
    const node = doc.createNode({ name: rule.name, match, ...(rule.resolve ? { resolve: true } : {}), ...to }) as YAMLMap;
    const position = rule.position === undefined ? defaultPosition(seq) : Math.min(rule.position, seq.items.length);
    seq.items.splice(position, 0, node);
  };
}

/** Changes a rule's name, domains, target or position. */
export function updateRule(name: string, change: RuleUpdate): Edit {
  return (doc, role) => {
    const seq = rules(doc);
    const index = findRule(seq, name);
    const item = seq.items[index] as YAMLMap;
    if (change.name !== undefined && change.name !== name) {
      if (seq.items.some((other) => isMap(other) && other.get('name') === change.name)) throw new ProxyError('CONFLICT', `a rule named "${change.name}" already exists`);
      item.set('name', change.name);
    }
    if (change.match !== undefined) item.set('match', doc.createNode(matchOf(change)));
    else if (change.domains !== undefined) item.setIn(['match', 'domains'], doc.createNode(change.domains));
    if (change.resolve !== undefined) item.set('resolve', change.resolve);
    for (const [key, value] of Object.entries(target(role, change))) {
      // A server rule has one target: a backend (or several), or action: reject.
      if (role === 'server') for (const other of key === 'action' ? ['backend', 'backends', 'load_balancing'] : ['backends', 'action']) item.delete(other);
      item.set(key, value);
    }
    if (change.position !== undefined) {
      seq.items.splice(index, 1);
      seq.items.splice(Math.min(change.position, seq.items.length), 0, item);
    }
  };
}

/** Removes a rule. */
export function removeRule(name: string): Edit {
  return (doc) => {
    const seq = rules(doc);
    seq.items.splice(findRule(seq, name), 1);
  };
}

/** Puts the rules in the given order; it must name every rule exactly once. */
export function reorderRules(order: string[]): Edit {
  return (doc) => {
    const seq = rules(doc);
    const names = seq.items.map((item) => (isMap(item) ? String(item.get('name')) : ''));
    const missing = names.filter((n) => !order.includes(n));
    const unknown = order.filter((n) => !names.includes(n));
    if (missing.length > 0 || unknown.length > 0 || new Set(order).size !== order.length) {
      throw new ProxyError('BAD_REQUEST', `the new order must name every rule exactly once${missing.length ? `; missing: ${missing.join(', ')}` : ''}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
    }
    seq.items = order.map((n) => seq.items[names.indexOf(n)]);
  };
}

/** Adds a backend (server role). */
/**
 * Why a tunnel backend's files cannot be used (missing, unreadable, invalid), or null. Only
 * absolute paths are checked here (the CLI sends them so); a relative one is resolved against the
 * config file by the load that follows, which marks the backend unavailable with the reason.
 */
export function backendFilesProblem(backend: BackendAdd): string | null {
  if (backend.type !== 'wireguard' && backend.type !== 'openvpn') return null;
  const profile = backend.config_file && isAbsolute(backend.config_file) ? tunnelFileProblem(backend.type, backend.config_file) : null;
  if (profile) return profile;
  return backend.type === 'openvpn' && backend.auth_file && isAbsolute(backend.auth_file) ? authFileProblem(backend.auth_file) : null;
}

export function addBackend(backend: BackendAdd): Edit {
  return (doc, role) => {
    if (role !== 'server') throw new ProxyError('BAD_REQUEST', 'backends are defined in the server role; the client has "server" and "direct"');
    if (!doc.has('backends')) doc.set('backends', doc.createNode([{ name: 'direct', type: 'direct' }]));
    const seq = doc.get('backends', true);
    if (!isSeq(seq)) throw new ProxyError('CONFIG_INVALID', '"backends" is not a list');
    if (seq.items.some((item) => isMap(item) && item.get('name') === backend.name)) throw new ProxyError('CONFLICT', `a backend named "${backend.name}" already exists`);
    if (!backend.force) {
      const problem = backendFilesProblem(backend);
      if (problem) throw new ProxyError('BACKEND_FILES', `backend "${backend.name}" not added: ${problem} (--force adds it anyway, unavailable until the file is fixed)`);
    }
    const entry: Record<string, unknown> = { name: backend.name, type: backend.type };
    if (backend.type === 'http' || backend.type === 'socks5') {
      if (!backend.address) throw new ProxyError('BAD_REQUEST', `a ${backend.type} backend needs --address host:port`);
      entry.proxy = { address: backend.address, ...(backend.username ? { username: backend.username, password: backend.password ?? '' } : {}) };
    } else if (backend.type === 'wireguard') {
      if (!backend.config_file) throw new ProxyError('BAD_REQUEST', 'a wireguard backend needs --config FILE');
      entry.wireguard = { config_file: backend.config_file };
    } else if (backend.type === 'openvpn') {
      if (!backend.config_file) throw new ProxyError('BAD_REQUEST', 'an openvpn backend needs --config FILE');
      entry.openvpn = {
        config_file: backend.config_file,
        ...(backend.auth_file ? { auth_file: backend.auth_file } : {}),
        ...(backend.username ? { username: backend.username, password: backend.password ?? '' } : {}),
      };
    }
    seq.items.push(doc.createNode(entry));
  };
}

/** Removes a backend; refused while a rule still sends traffic to it. */
export function removeBackend(name: string): Edit {
  return (doc, role) => {
    if (role !== 'server') throw new ProxyError('BAD_REQUEST', 'backends are defined in the server role');
    const seq = doc.get('backends', true);
    const index = isSeq(seq) ? seq.items.findIndex((item) => isMap(item) && item.get('name') === name) : -1;
    if (!isSeq(seq) || index === -1) throw new ProxyError('NOT_FOUND', `no backend named "${name}"`);
    const users = rules(doc).items.filter((item) => isMap(item) && (item.get('backend') === name || JSON.stringify((item.toJSON() as { backends?: unknown }).backends ?? []).includes(`"${name}"`)));
    if (users.length > 0) throw new ProxyError('CONFLICT', `backend "${name}" is used by rule ${users.map((u) => `"${(u as YAMLMap).get('name')}"`).join(', ')}; remove or change those rules first`);
    seq.items.splice(index, 1);
  };
}
