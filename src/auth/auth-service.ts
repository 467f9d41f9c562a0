import type { ConfigSnapshot } from '../config/model.js';
import { parseDuration } from '../config/value-parsers.js';
import type { LimitHit } from '../policy/limit-hit.js';
import type { FrontProtocol } from '../protocol/connection-record.js';
import { refusal, type Refusal } from '../protocol/refusal.js';
import { targetText } from '../protocol/target-text.js';
import { Acl } from './acl.js';
import { authSettings, type AuthSettings } from './auth-settings.js';
import { ClientRegistry } from './client-registry.js';
import { parseProxyAuthorization } from './credentials.js';
import type { AttemptLeases } from './attempt-leases.js';
import { FailureLimiter } from './failure-limiter.js';
import { isIdentity, type AuthProvider, type Credentials, type Identity, type Verdict } from './identity.js';
import { VerdictCache, type VerdictStats } from './verdict-cache.js';

/** The verdict on one request's credentials. */
export type AuthOutcome = { ok: true; identity: Identity } | { ok: false; refusal: Refusal };

/** What a check of a group ACL is told about the request. */
export interface AclRequest {
  client: string;
  protocol: FrontProtocol;
  host: string;
  port: number;
}

const UNAVAILABLE: AuthOutcome = { ok: false, refusal: refusal('auth-unavailable', 'authentication service unavailable') };
const FORBIDDEN: AuthOutcome = { ok: false, refusal: refusal('auth-forbidden', 'proxy access forbidden: the user is not in an allowed group') };

/** Where authentication reports what a person should know. */
export interface AuthEvents {
  hit(hit: LimitHit): void;
  warn(message: string): void;
}

/** Authentication state that outlives reloads: failed-attempt counts and the clients seen. One per engine. */
export class AuthState {
  readonly failures = new FailureLimiter(10, 60_000);
  readonly clients = new ClientRegistry();
  private lastWarning = 0;

  /** `leases`: failed logins counted in the cluster primary (an engine worker on shared sockets). */
  constructor(
    readonly events: AuthEvents,
    readonly leases: AttemptLeases | null = null,
  ) {
    leases?.follow(this.failures);
  }

  /** Warns at most every few seconds (a down directory would otherwise log per request). */
  warnSometimes(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.events.warn(message);
  }
}

async function createProvider(settings: AuthSettings): Promise<AuthProvider> {
  switch (settings.mode) {
    case 'native':
      return new (await import('./native-provider.js')).NativeProvider(settings);
    case 'system':
      return new (await import('./pam-provider.js')).PamProvider(settings);
    case 'ldap':
      return new (await import('./ldap-provider.js')).LdapProvider(settings);
    case 'oauth':
      return new (await import('./oauth-provider.js')).OauthProvider(settings);
    default:
      throw new Error(`no provider for auth mode "${settings.mode}"`);
  }
}

/** `answer` once `pending` settles, or at once when nothing is pending. */
const after = <T>(pending: Promise<void> | undefined, answer: T): T | Promise<T> => (pending === undefined ? answer : pending.then(() => answer));

const quote = (text: string): string => `"${text.replace(/["\\]/g, '\\$&')}"`;

/** A name a client claimed, fit for a log line: bounded, with no control characters. */
const shownName = (name: string): string => name.slice(0, 64).replace(/[\x00-\x1f\x7f-\x9f]/g, '?');

/** The user name in a `Proxy-Authorization` value, if it carries one (Basic); never its password. */
function claimedUser(header: string): string | undefined {
  const credentials = parseProxyAuthorization(header);
  return credentials !== null && credentials !== 'malformed' && credentials.kind === 'password' ? credentials.username : undefined;
}

/**
 * Authentication and group ACLs of one config snapshot: the mode's provider (loaded on first
 * use), the verdict cache in front of it, the failed-attempt limit and the ACL. A reload that
 * leaves `server.auth` alone keeps the service and its cache; one that changes users gets a new
 * cache; a changed mode needs a restart (a reload says so), so the running mode stays.
 */
export class AuthService {
  readonly mode: AuthSettings['mode'];
  private readonly key: string;
  private readonly cache: VerdictCache;
  private provider: Promise<AuthProvider> | null = null;
  private readonly challenge: string;
  private readonly acceptsBearer: boolean;
  private readonly acl: Acl | null;

  private constructor(
    private readonly settings: AuthSettings,
    private readonly state: AuthState,
  ) {
    this.mode = settings.mode;
    this.key = JSON.stringify(settings);
    this.cache = new VerdictCache(parseDuration(settings.cache.ttl)!, parseDuration(settings.cache.negative_ttl)!, settings.cache.max_entries);
    this.acceptsBearer = settings.mode === 'oauth';
    const realm = quote(settings.realm);
    this.challenge = this.acceptsBearer ? `Bearer realm=${realm}, Basic realm=${realm}, charset="UTF-8"` : `Basic realm=${realm}, charset="UTF-8"`;
    this.acl = Acl.of(settings);
  }

  /**
   * The service for a snapshot: null when auth is off; `previous` itself when `server.auth` did
   * not change, or when only its mode did (that needs a restart).
   */
  static build(snapshot: ConfigSnapshot, state: AuthState, previous: AuthService | null = null): AuthService | null {
    const settings = authSettings(snapshot);
    if (previous && settings.mode !== previous.mode) return previous;
    if (previous && JSON.stringify(settings) === previous.key) return previous;
    void previous?.close();
    state.failures.configure(settings.failed_attempts.max, parseDuration(settings.failed_attempts.window)!);
    return settings.mode === 'none' ? null : new AuthService(settings, state);
  }

  /** Checks a `Proxy-Authorization` value: the outcome at once when the verdict is cached, else a promise of it that never rejects. */
  checkHttp(header: string | undefined, client: string): AuthOutcome | Promise<AuthOutcome> {
    const wait = this.state.failures.blockedFor(client);
    if (wait > 0) return this.throttled(wait);
    if (header === undefined) return this.refuse('auth-required', 'proxy authentication required');
    const leases = this.state.leases;
    if (leases?.watches(client)) {
      const failed = (outcome: AuthOutcome): boolean => !outcome.ok && outcome.refusal.code === 'auth-failed';
      return this.leased(leases, client, () => this.verifyHttp(header, client, true), failed, (until) => this.throttled(until - Date.now()));
    }
    return this.verifyHttp(header, client, false);
  }

  /** Checks a present `Proxy-Authorization` value (`leased`: with the primary's go-ahead). */
  private verifyHttp(header: string, client: string, leased: boolean): AuthOutcome | Promise<AuthOutcome> {
    const key = this.cache.keyOf(`h\0${header}`);
    const known = this.cache.get(key);
    if (known !== undefined) return this.decide(known, client, header, leased);
    const credentials = parseProxyAuthorization(header);
    if (credentials === null || credentials === 'malformed' || (credentials.kind === 'bearer' && !this.acceptsBearer)) {
      const why = credentials === 'malformed' || credentials === null ? 'malformed Proxy-Authorization header' : `a Bearer token, but auth mode "${this.mode}" takes only Basic`;
      const answer = this.refuse('auth-failed', `proxy authentication failed: expected ${this.acceptsBearer ? 'Bearer or Basic' : 'Basic'} credentials`);
      return after(this.failed(client, 'http', undefined, why, leased), answer);
    }
    return this.run(key, credentials).then(
      (verdict) => this.decide(verdict, client, header, leased),
      (error: Error) => {
        this.state.warnSometimes(`authentication backend (${this.mode}) failed: ${error.message}`);
        return UNAVAILABLE;
      },
    );
  }

  /** Checks an RFC 1929 username/password (SOCKS5); null refuses. */
  async checkPassword(username: string, password: string, client: string): Promise<Identity | null> {
    if (this.state.failures.blockedFor(client) > 0) return null;
    const leases = this.state.leases;
    if (!leases?.watches(client)) return (await this.verifyPassword(username, password, client, false)) || null;
    const result = await this.leased(leases, client, () => this.verifyPassword(username, password, client, true), (r) => r === false, () => null);
    return result || null;
  }

  /** Checks an RFC 1929 username/password (`leased`: with the primary's go-ahead): false for a failed login, null for another refusal. */
  private async verifyPassword(username: string, password: string, client: string, leased: boolean): Promise<Identity | null | false> {
    const key = this.cache.keyOf(`s\0${username}\0${password}`);
    let verdict = this.cache.get(key);
    if (verdict === undefined) {
      try {
        verdict = await this.run(key, { kind: 'password', username, password });
      } catch (error) {
        // The provider could not decide: not the client's failure.
        this.state.warnSometimes(`authentication backend (${this.mode}) failed: ${(error as Error).message}`);
        return null;
      }
    }
    if (isIdentity(verdict)) {
      this.state.clients.seen(verdict, client);
      return verdict;
    }
    // RFC 1929 has one failure reply: a user outside the groups is refused like bad credentials, logged apart.
    if (verdict.outsideGroups) {
      this.forbidden(client, 'socks5', verdict.user ?? username, verdict.rejected);
      return null;
    }
    await this.failed(client, 'socks5', verdict.user ?? username, verdict.rejected, leased);
    return false;
  }

  /** The refusal when a user's groups may not use a backend (403 / SOCKS5 0x02), or null. */
  backendDenial(identity: Identity | undefined, backend: string, info: AclRequest): Refusal | null {
    if (this.acl === null || identity === undefined || this.acl.allows(identity.groups, backend)) return null;
    const reason = `user "${identity.user}" may not use backend "${backend}" (no server.auth acl entry for ${identity.groups.length ? `groups ${identity.groups.join(', ')}` : 'a user without groups'})`;
    this.state.events.hit({ scope: 'acl', client: info.client, user: identity.user, reason, protocol: info.protocol, target: targetText(info.host, info.port), time: Date.now() });
    return refusal('acl-denied', reason);
  }

  /** Verdict-cache counters: how many checks reached the provider, how many were answered from the cache. */
  stats(): VerdictStats {
    return { ...this.cache.stats };
  }

  /** Releases the provider. */
  async close(): Promise<void> {
    const provider = await this.provider?.catch(() => null);
    await provider?.close?.();
  }

  private run(key: string, credentials: Credentials): Promise<Verdict> {
    return this.cache.check(key, async () => {
      this.provider ??= createProvider(this.settings);
      this.provider.catch(() => (this.provider = null));
      return (await this.provider).verify(credentials);
    });
  }

  /** Runs a check of a watched client with the primary's go-ahead, and says when it ended without a failure (a failure is counted by `failed`). */
  private async leased<T>(leases: AttemptLeases, client: string, check: () => T | Promise<T>, failed: (result: T) => boolean, locked: (until: number) => T): Promise<T> {
    const until = await leases.ask(client);
    if (until > 0) return locked(until);
    const result = await check();
    if (!failed(result)) leases.done(client);
    return result;
  }

  private decide(verdict: Verdict, client: string, header: string, leased: boolean): AuthOutcome | Promise<AuthOutcome> {
    if (isIdentity(verdict)) {
      this.state.clients.seen(verdict, client);
      return { ok: true, identity: verdict };
    }
    if (verdict.outsideGroups) {
      // The credentials are right: asking for them again (407) would not help.
      this.forbidden(client, 'http', verdict.user ?? claimedUser(header), verdict.rejected);
      return FORBIDDEN;
    }
    return after(this.failed(client, 'http', verdict.user ?? claimedUser(header), verdict.rejected, leased), this.refuse('auth-failed', 'proxy authentication failed'));
  }

  /** Reports a proven user outside the allowed groups; not a failed attempt, so it does not count toward throttling. */
  private forbidden(client: string, protocol: FrontProtocol, user: string | undefined, why: string): void {
    const who = user === undefined ? {} : { user: shownName(user) };
    this.state.events.hit({ scope: 'auth', client, ...who, mode: this.mode, reason: `refused: ${why}`, protocol, time: Date.now() });
  }

  /**
   * Reports a failed login (the name it claimed, never its secret) and counts it against the
   * address: here, or in the cluster primary (`leased`: an attempt it allowed), which answers
   * before the client is, so the client's next attempt finds the count on any worker.
   */
  private failed(client: string, protocol: FrontProtocol, user: string | undefined, why: string, leased: boolean): Promise<void> | undefined {
    const who = user === undefined ? {} : { user: shownName(user) };
    this.state.events.hit({ scope: 'auth', client, ...who, mode: this.mode, reason: `failed login: ${why}`, protocol, time: Date.now() });
    const leases = this.state.leases;
    if (leases === null) {
      if (this.state.failures.fail(client)) this.lockedOut(client, protocol);
      return undefined;
    }
    return leases.failed(client, leased).then((until) => {
      // Cut off from the primary (exiting), the local count decides.
      if (until === null) {
        if (this.state.failures.fail(client)) this.lockedOut(client, protocol);
        return;
      }
      // The fleet's shared count (state.store: redis) hears of it too.
      this.state.failures.shared(client);
      if (until > 0) this.lockedOut(client, protocol);
    });
  }

  /** Reports that `client` just reached the failed-attempt limit. */
  private lockedOut(client: string, protocol: FrontProtocol): void {
    const { max, window } = this.settings.failed_attempts;
    this.state.events.hit({ scope: 'auth', client, mode: this.mode, reason: `${max} failed authentication attempts within ${window}; further attempts are refused until it ends (server.auth.failed_attempts)`, protocol, time: Date.now() });
  }

  private refuse(code: 'auth-required' | 'auth-failed', reason: string): AuthOutcome {
    return { ok: false, refusal: refusal(code, reason, { 'Proxy-Authenticate': this.challenge }) };
  }

  private throttled(waitMs: number): AuthOutcome {
    const retry = Math.max(1, Math.ceil(waitMs / 1000));
    return { ok: false, refusal: refusal('auth-throttled', 'too many failed authentication attempts from this address', { 'Retry-After': String(retry) }) };
  }
}
