import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { parseDuration } from '../config/values.js';
import type { AuthSettings } from './auth-settings.js';
import type { AuthProvider, Credentials, Identity } from './identity.js';

type OauthSettings = NonNullable<AuthSettings['oauth']>;

/** jose errors that mean "this token is not acceptable" (as opposed to "the provider cannot be reached"). */
const REFUSED = [errors.JWTExpired, errors.JWTClaimValidationFailed, errors.JWTInvalid, errors.JWSInvalid, errors.JWSSignatureVerificationFailed, errors.JWKSNoMatchingKey, errors.JOSEAlgNotAllowed, errors.JOSENotSupported];

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

  async verify(credentials: Credentials): Promise<Identity | null> {
    const token = credentials.kind === 'bearer' ? credentials.token : credentials.password;
    if (token === '') return null;
    const jwt = this.settings.jwt;
    let claims: Record<string, unknown> | null;
    if (jwt?.issuer && token.split('.').length === 3) claims = await this.verifyJwt(token, jwt.issuer, jwt.audience!);
    else if (this.settings.userinfo_url) claims = await this.userinfo(token);
    else claims = null;
    return claims ? this.identity(claims) : null;
  }

  private async verifyJwt(token: string, issuer: string, audience: string): Promise<JWTPayload | null> {
    try {
      const { payload } = await jwtVerify(token, await this.jwks(issuer), { issuer, audience, clockTolerance: this.skewS, requiredClaims: ['exp'] });
      return payload;
    } catch (error) {
      if (REFUSED.some((kind) => error instanceof kind)) return null;
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

  private async userinfo(token: string): Promise<Record<string, unknown> | null> {
    const response = await fetch(this.settings.userinfo_url!, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status === 401 || response.status === 403) return null;
    if (!response.ok) throw new Error(`userinfo endpoint answered ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  private identity(claims: Record<string, unknown>): Identity | null {
    const name = claims[this.settings.username_claim] ?? claims.sub;
    if (typeof name !== 'string' || name === '') return null;
    const raw = claims[this.settings.groups_claim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : [];
    const allowed = this.settings.allowed_groups;
    if (allowed.length > 0 && !groups.some((g) => allowed.includes(g))) return null;
    return { user: name, groups };
  }
}
