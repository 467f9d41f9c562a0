import { createHmac, randomBytes } from 'node:crypto';
import { isIdentity, type Verdict } from './identity.js';

interface Entry {
  verdict: Verdict;
  until: number;
}

/** Counters of a verdict cache (for tests, status and tuning). */
export interface VerdictStats {
  /** Answers taken from the cache. */
  hits: number;
  /** Checks that reached the provider (bcrypt, PAM, LDAP, the OIDC provider). */
  checks: number;
}

/**
 * Remembers verdicts for a while so a password check (bcrypt, PAM, an LDAP bind) runs once per
 * credential and TTL, not per request; concurrent requests with the same credential wait for one
 * check. Entries are keyed by an HMAC under a per-process random key: the cache holds no
 * credential, and a lookup reveals nothing about stored ones through timing.
 */
export class VerdictCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Verdict>>();
  readonly stats: VerdictStats = { hits: 0, checks: 0 };

  constructor(
    private readonly ttlMs: number,
    private readonly negativeTtlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The cache key of a credential (its kind and every secret byte go in). */
  keyOf(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64');
  }

  /** The remembered verdict (an identity, or why it was refused), or undefined when none is fresh. */
  get(key: string, now = Date.now()): Verdict | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    this.stats.hits++;
    return entry.verdict;
  }

  /** Runs the check once for concurrent callers and remembers its verdict (a failed check is not remembered). */
  check(key: string, run: () => Promise<Verdict>): Promise<Verdict> {
    const waiting = this.pending.get(key);
    if (waiting) {
      this.stats.hits++;
      return waiting;
    }
    this.stats.checks++;
    const promise = run().then(
      (verdict) => {
        this.pending.delete(key);
        this.remember(key, verdict);
        return verdict;
      },
      (error: unknown) => {
        this.pending.delete(key);
        throw error;
      },
    );
    this.pending.set(key, promise);
    return promise;
  }

  /** Forgets every verdict (users changed). */
  clear(): void {
    this.entries.clear();
  }

  private remember(key: string, verdict: Verdict): void {
    const ttl = isIdentity(verdict) ? this.ttlMs : this.negativeTtlMs;
    if (ttl <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { verdict, until: Date.now() + ttl });
  }
}
