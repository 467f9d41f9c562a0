import type { ConfigSnapshot } from '../config/model.js';
import type { KeyPath } from '../config/problems.js';
import type { AuthSettings } from '../config/sections.js';

export type { AuthSettings };

/** The auth section of a snapshot, as the load normalised it (mode "none" for the client role). */
export function authSettings(snapshot: ConfigSnapshot): AuthSettings {
  return snapshot.auth;
}

const AT = (...path: (string | number)[]): KeyPath => ['server', 'auth', ...path];

/** Problems that make an auth section unusable: the mode's own section is missing or cannot validate anything. */
export function authProblems(auth: AuthSettings): [KeyPath, string][] {
  const problems: [KeyPath, string][] = [];
  if (auth.mode === 'ldap' && !auth.ldap) problems.push([AT('mode'), 'mode "ldap" needs a "server.auth.ldap:" section (server, base_dn, user_filter)']);
  if (auth.mode === 'oauth') {
    const o = auth.oauth;
    if (!o) problems.push([AT('mode'), 'mode "oauth" needs a "server.auth.oauth:" section (jwt.issuer and jwt.audience, or userinfo_url)']);
    else {
      const validatesJwt = o.jwks_url !== undefined || o.jwt?.issuer !== undefined;
      if (!validatesJwt && o.userinfo_url === undefined) problems.push([AT('oauth'), 'needs jwt.issuer (its JWKS is discovered) or jwks_url, or a userinfo_url for opaque tokens']);
      if (validatesJwt && !o.jwt?.issuer) problems.push([AT('oauth', 'jwt'), 'JWT validation needs jwt.issuer: a token of any issuer must not pass']);
      if (validatesJwt && !o.jwt?.audience) problems.push([AT('oauth', 'jwt'), 'JWT validation needs jwt.audience: a token issued for another application must not pass']);
    }
  }
  if (auth.mode === 'system' && process.platform !== 'linux') problems.push([AT('mode'), `mode "system" uses PAM, which this build supports on Linux only (this is ${process.platform})`]);
  return problems;
}

/** Warnings about an auth section that loads but may not do what was meant. */
export function authWarnings(auth: AuthSettings, backends: string[]): string[] {
  const warnings: string[] = [];
  if (auth.mode === 'none') {
    if (auth.native?.users.length || auth.acl.length || auth.native?.acl.length) warnings.push('server.auth.mode is "none": users and ACLs are not used until a mode is set');
    return warnings;
  }
  if (auth.mode === 'native' && !auth.native?.users.length) warnings.push('server.auth.mode is "native" but no users are defined: every client is refused (add one with "user add")');
  for (const entry of aclEntries(auth)) {
    for (const name of entry.backends) if (name !== '*' && !backends.includes(name)) warnings.push(`server.auth acl for group "${entry.group}" names unknown backend "${name}"`);
  }
  return warnings;
}

/** Every ACL entry: `server.auth.acl` and `server.auth.native.acl` together. */
export function aclEntries(auth: AuthSettings): { group: string; backends: string[] }[] {
  return [...auth.acl, ...(auth.native?.acl ?? [])];
}
