import { isMap, isSeq, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { ProxyError } from '../errors.js';
import type { Edit } from './editor.js';

/** A native user as `user add` writes it: only ever a bcrypt hash, never a password. */
export interface NativeUserEntry {
  username: string;
  password_hash: string;
  groups: string[];
}

function users(doc: Document, create: boolean): YAMLSeq | null {
  const path = ['server', 'auth', 'native', 'users'];
  if (!doc.hasIn(path)) {
    if (!create) return null;
    doc.setIn(path, doc.createNode([]));
  }
  const seq = doc.getIn(path, true);
  if (!isSeq(seq)) throw new ProxyError('CONFIG_INVALID', '"server.auth.native.users" is not a list');
  return seq;
}

function serverOnly(role: string): void {
  if (role !== 'server') throw new ProxyError('BAD_REQUEST', 'users are defined in the server role (server.auth.native.users)');
}

function findUser(doc: Document, username: string): YAMLMap {
  const seq = users(doc, false);
  const item = seq?.items.find((entry) => isMap(entry) && entry.get('username') === username);
  if (!item) throw new ProxyError('NOT_FOUND', `no user named "${username}"`);
  return item as YAMLMap;
}

/** Adds a native user. */
export function addUser(user: NativeUserEntry): Edit {
  return (doc, role) => {
    serverOnly(role);
    const seq = users(doc, true)!;
    if (seq.items.some((entry) => isMap(entry) && entry.get('username') === user.username)) throw new ProxyError('CONFLICT', `a user named "${user.username}" already exists`);
    seq.items.push(doc.createNode({ username: user.username, password_hash: user.password_hash, groups: user.groups }));
  };
}

/** Removes a native user. */
export function removeUser(username: string): Edit {
  return (doc, role) => {
    serverOnly(role);
    const seq = users(doc, false);
    const index = seq?.items.findIndex((entry) => isMap(entry) && entry.get('username') === username) ?? -1;
    if (!seq || index === -1) throw new ProxyError('NOT_FOUND', `no user named "${username}"`);
    seq.items.splice(index, 1);
  };
}

/** Replaces a native user's password hash. */
export function setUserPassword(username: string, passwordHash: string): Edit {
  return (doc, role) => {
    serverOnly(role);
    findUser(doc, username).set('password_hash', passwordHash);
  };
}

/** Adds and removes groups of a native user (adding one it has, or removing one it lacks, changes nothing). */
export function changeUserGroups(username: string, add: string[], remove: string[]): Edit {
  return (doc, role) => {
    serverOnly(role);
    const user = findUser(doc, username);
    const before = ((user.toJSON() as { groups?: string[] }).groups ?? []).filter((g) => !remove.includes(g));
    for (const group of add) if (!before.includes(group)) before.push(group);
    user.set('groups', doc.createNode(before));
  };
}
