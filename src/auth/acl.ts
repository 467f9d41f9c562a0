import type { AuthClientView } from './client-registry.js';
import { aclEntries, type AuthSettings } from './auth-settings.js';

/** The group-to-backend ACL of `server.auth` (README "Authentication"): which groups may use which backends. */
export class Acl {
  private readonly byGroup = new Map<string, Set<string>>();

  private constructor(entries: { group: string; backends: string[] }[]) {
    for (const entry of entries) {
      const set = this.byGroup.get(entry.group) ?? new Set<string>();
      for (const backend of entry.backends) set.add(backend);
      this.byGroup.set(entry.group, set);
    }
  }

  /** The ACL of an auth section, or null when it has no entries (every user may use every backend). */
  static of(settings: AuthSettings): Acl | null {
    const entries = aclEntries(settings);
    return entries.length === 0 ? null : new Acl(entries);
  }

  /** Whether one of the groups may use the backend (`*` in an entry allows every backend). */
  allows(groups: readonly string[], backend: string): boolean {
    for (const group of groups) {
      const allowed = this.byGroup.get(group);
      if (allowed && (allowed.has('*') || allowed.has(backend))) return true;
    }
    return false;
  }
}

/** What is known of a user's groups before they connect, or why nothing is. */
export type KnownGroups = { known: true; groups: string[] } | { known: false; reason: string; refused?: true };

/**
 * A user's groups as the proxy would see them: native users from the config; for the other
 * modes, the groups the directory gave when the user last authenticated (`seen`), if they did.
 */
export function knownGroups(settings: AuthSettings, user: string, seen: readonly AuthClientView[]): KnownGroups {
  if (settings.mode === 'native') {
    const native = settings.native?.users.find((u) => u.username === user);
    return native ? { known: true, groups: native.groups } : { known: false, reason: `no native user "${user}": its credentials are refused (407)`, refused: true };
  }
  const view = seen.find((v) => v.user === user);
  if (view) return { known: true, groups: view.groups };
  return { known: false, reason: `the groups of "${user}" are not known until they authenticate (mode ${settings.mode})` };
}
