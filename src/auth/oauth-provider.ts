import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { parseDuration } from '../config/value-parsers.js';
import type { AuthSettings } from './auth-settings.js';
import { outsideGroups, type AuthProvider, type Credentials, type Rejection, type Verdict } from './identity.js';

type OauthSettings = NonNullable<AuthSettings['oauth']>;

/** A token's claims, once the token is accepted. */
type Claims = { claims: Record<string, unknown> };

/** Why jose found a token not acceptable (as opposed to "the provider cannot be reached"), or null for the latter. */
function tokenRejection(error: unknown, issuer: string, audience: string): Rejection | null {
  if (error instanceof errors.JWTExpired) return { rejected: 'token expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return { rejected: `wrong audience (expected "${audience}")` };
    if (error.claim === 'iss') return { rejected: `wrong issuer (expected "${issuer}")` };
    return { rejected: `claim "${error.claim}" refused: ${error.reason}` };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { rejected: 'bad signature' };
  if (error instanceof errors.JWKSNoMatchingKey) return { rejected: "bad signature: no key of the issuer's key set signed it" };
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return { rejected: 'token signed with an algorithm that is not allowed' };
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return { rejected: 'malformed token' };
  return null;
}

/**
 * `oauth` mode: bearer tokens (from `Proxy-Authorization: Bearer`, or as the password of Basic
 * and SOCKS5, whose clients cannot send a bearer). A JWT is verified against the provider's JWKS
 * (signature, issuer, audience, expiry with `clock_skew`); an opaque token is sent to the
 * userinfo endpoint when one is configured. Username and groups come from the configured claims.
 */
export class OauthProvider implements AuthProvider {
  readonly schemes = ['Bearer', 'Basic'] as const;
  private readonly settings: OauthSettings;
  private readonly skewS: number;
  private readonly timeoutMs: number;
  private keys: Promise<JWTVerifyGetKey> | null = null;

  constructor(settings: AuthSettings) {
    this.settings = settings.oauth!;
    this.skewS = Math.round((parseDuration(this.settings.clock_skew) ?? 30_000) / 1000);
    this.timeoutMs = parseDuration(this.settings.timeout) ?? 5000;
  }

  async verify(credentials: Credentials): Promise<Verdict> {
    const token = credentials.kind === 'bearer' ? credentials.token : credentials.password;
    if (token === '') return { rejected: 'empty token' };
    const jwt = this.settings.jwt;
    let checked: Claims | Rejection;
    if (jwt?.issuer && token.split('.').length === 3) checked = await this.verifyJwt(token, jwt.issuer, jwt.audience!);
    else if (this.settings.userinfo_url) checked = await this.userinfo(token);
    else checked = { rejected: 'opaque token, and no userinfo_url to check it at' };
    return 'claims' in checked ? this.identity(checked.claims) : checked;
  }

  private async verifyJwt(token: string, issuer: string, audience: string): Promise<Claims | Rejection> {
    try {
      const { payload } = await jwtVerify(token, await this.jwks(issuer), { issuer, audience, clockTolerance: this.skewS, requiredClaims: ['exp'] });
      return { claims: payload };
    } catch (error) {
      const rejection = tokenRejection(error, issuer, audience);
      if (rejection) return rejection;
      this.keys = null;
      throw error;
    }
  }

  /** The key set: `jwks_url`, or the `jwks_uri` of the issuer's discovery document (fetched once). */
  private jwks(issuer: string): Promise<JWTVerifyGetKey> {
    this.keys ??= (async () => {
      let url = this.settings.jwks_url;
      if (!url) {
        const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
        const response = await fetch(discovery, { signal: AbortSignal.timeout(this.timeoutMs) });
        if (!response.ok) throw new Error(`OpenID discovery at ${discovery} answered ${response.status}`);
        url = ((await response.json()) as { jwks_uri?: string }).jwks_uri;
        if (!url) throw new Error(`OpenID discovery at ${discovery} names no jwks_uri`);
      }
      return createRemoteJWKSet(new URL(url), { timeoutDuration: this.timeoutMs });
    })();
    this.keys.catch(() => (this.keys = null));
    return this.keys;
  }

  private async userinfo(token: string): Promise<Claims | Rejection> {
    const response = await fetch(this.settings.userinfo_url!, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status === 401 || response.status === 403) return { rejected: `the userinfo endpoint refused the token (${response.status})` };
    if (!response.ok) throw new Error(`userinfo endpoint answered ${response.status}`);
    return { claims: (await response.json()) as Record<string, unknown> };
  }

  private identity(claims: Record<string, unknown>): Verdict {
    const name = claims[this.settings.username_claim] ?? claims.sub;
    if (typeof name !== 'string' || name === '') return { rejected: `token has no "${this.settings.username_claim}" or "sub" claim` };
    const raw = claims[this.settings.groups_claim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : [];
    const allowed = this.settings.allowed_groups;
    if (allowed.length > 0 && !groups.some((g) => allowed.includes(g))) return outsideGroups(name, 'server.auth.oauth.allowed_groups');
    return { user: name, groups };
  }
}
