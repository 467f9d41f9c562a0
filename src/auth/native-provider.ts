import { hash, verify } from '@node-rs/bcrypt';
import type { AuthSettings } from './auth-settings.js';
import type { AuthProvider, Credentials, Verdict } from './identity.js';

/** A cost-10 hash of nothing anyone uses: checked for unknown names so they take as long as known ones. */
const DECOY_HASH = '$2b$10$1b3mAaBtS0CesPKqIuTgVe/4HgwLQnmAki25kNzFIdym0ZK6E7rEy';

/** The bcrypt cost of hashes the CLI writes. */
export const BCRYPT_COST = 10;

/** A bcrypt hash (`$2b$`) of a password, for `server.auth.native.users[].password_hash`. */
export async function hashPassword(password: string): Promise<string> {
  // The binding writes crypt_blowfish's `$2y$`, which computes exactly what OpenBSD's `$2b$`
  // does; `$2b$` is the prefix the config schema and other tools (htpasswd, Python) expect.
  return (await hash(password, BCRYPT_COST)).replace(/^\$2y\$/, '$2b$');
}

/**
 * `native` mode: users and bcrypt hashes from the config (README "Authentication"). bcrypt runs on libuv's
 * thread pool, never on the event loop.
 */
export class NativeProvider implements AuthProvider {
  readonly schemes = ['Basic'] as const;
  private readonly users: Map<string, { hash: string; groups: string[] }>;

  constructor(settings: AuthSettings) {
    this.users = new Map((settings.native?.users ?? []).map((u) => [u.username, { hash: u.password_hash, groups: u.groups }]));
  }

  async verify(credentials: Credentials): Promise<Verdict> {
    if (credentials.kind !== 'password') return { rejected: 'not a user name and password' };
    const user = this.users.get(credentials.username);
    // An unknown name costs a bcrypt check too, so timing does not tell which names exist.
    const ok = await verify(credentials.password, user?.hash ?? DECOY_HASH);
    if (!user) return { rejected: 'unknown user' };
    return ok ? { user: credentials.username, groups: user.groups } : { rejected: 'wrong password', user: credentials.username };
  }
}
