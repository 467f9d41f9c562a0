import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError } from 'ldapts';
import { parseDuration } from '../config/value-parsers.js';
import type { AuthSettings } from './auth-settings.js';
import { outsideGroups, type AuthProvider, type Credentials, type Verdict } from './identity.js';

type LdapSettings = NonNullable<AuthSettings['ldap']>;

/** A value made safe inside an LDAP search filter (RFC 4515). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A DN compared the way directories do: case-insensitive, no spaces around separators. */
function normalizeDn(dn: string): string {
  return dn.toLowerCase().replace(/\s*([,=+])\s*/g, '$1').trim();
}

/** The value of a DN's first RDN (`cn=streaming,ou=groups,…` → `streaming`). */
function firstRdnValue(dn: string): string {
  const match = /^[^=]+=((?:\\.|[^,+])*)/.exec(dn);
  return match ? match[1].replace(/\\(.)/g, '$1').trim() : dn;
}

function strings(value: unknown): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/**
 * `ldap` mode: per check, connect (ldaps:// or StartTLS when configured), bind as `bind_dn`,
 * find the user with `user_filter`, collect groups (`memberOf` and `group_filter`), then bind as
 * the user with the password given. An empty password is refused before any bind: LDAP treats
 * it as an unauthenticated bind that "succeeds".
 */
export class LdapProvider implements AuthProvider {
  readonly schemes = ['Basic'] as const;
  private readonly settings: LdapSettings;
  private readonly tls: ConnectionOptions;
  private readonly timeoutMs: number;
  private readonly allowed: Set<string>;

  constructor(settings: AuthSettings) {
    this.settings = settings.ldap!;
    const { tls } = this.settings;
    this.tls = { rejectUnauthorized: !(tls?.skip_verify ?? false), ...(tls?.ca_cert ? { ca: [readFileSync(tls.ca_cert)] } : {}) };
    this.timeoutMs = parseDuration(this.settings.timeout) ?? 5000;
    this.allowed = new Set(this.settings.allowed_groups.map(normalizeDn));
  }

  async verify(credentials: Credentials): Promise<Verdict> {
    if (credentials.kind !== 'password' || credentials.username === '' || credentials.password === '') return { rejected: 'empty user name or password' };
    const s = this.settings;
    // ldapts speaks TLS from the first byte whenever it is given TLS options: only for ldaps://.
    const ldaps = s.server.startsWith('ldaps://');
    const client = new Client({ url: s.server, timeout: this.timeoutMs, connectTimeout: this.timeoutMs, ...(ldaps ? { tlsOptions: this.tls } : {}), strictDN: false });
    try {
      if (s.start_tls) await client.startTLS(this.tls);
      if (s.bind_dn) await client.bind(s.bind_dn, s.bind_password ?? '');
      const filter = s.user_filter.replaceAll('%s', escapeFilterValue(credentials.username));
      const { searchEntries } = await client.search(s.base_dn, { scope: 'sub', filter, attributes: ['memberOf'], sizeLimit: 2 });
      // None, or a name that is not unique: no one to bind as.
      if (searchEntries.length !== 1) return { rejected: searchEntries.length === 0 ? 'unknown user' : 'user name matches more than one directory entry', user: credentials.username };
      const userDn = searchEntries[0].dn;
      const groupDns = strings(searchEntries[0].memberOf);
      if (s.group_filter) {
        const groups = await client.search(s.base_dn, { scope: 'sub', filter: s.group_filter.replaceAll('%s', escapeFilterValue(userDn)), attributes: ['dn'] });
        for (const entry of groups.searchEntries) groupDns.push(entry.dn);
      }
      try {
        await client.bind(userDn, credentials.password);
      } catch (error) {
        if (error instanceof InvalidCredentialsError) return { rejected: 'wrong password', user: credentials.username };
        throw error;
      }
      // Checked after the password: only someone who proved who they are learns they are outside the groups (403).
      if (this.allowed.size > 0 && !groupDns.some((dn) => this.allowed.has(normalizeDn(dn)))) return outsideGroups(credentials.username, 'server.auth.ldap.allowed_groups');
      const groups = [...new Set(groupDns.flatMap((dn) => [dn, firstRdnValue(dn)]))];
      return { user: credentials.username, groups };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}
