import type { BucketRequest, LimiterStore, Verdict } from './limiter-store.js';
import { PASS } from './limiter-store.js';
import type { PrimaryStore } from './primary-store.js';

/** Leased tokens older than this are dropped unspent: a bucket's burst is its own, not its own plus a stale lease. */
const LEASE_TTL_MS = 1_000;
/** Leases held before the expired ones are swept. */
const SWEEP_AT = 1_024;

interface Lease {
  tokens: number;
  expires: number;
}

/**
 * Request-rate buckets of an engine worker whose buckets live in the cluster primary (per_ip,
 * per_user, global): each worker leases tokens of them, a small chunk at a time (about 30 ms of
 * the rate), and spends them here synchronously, so a request whose buckets all have a leased
 * token costs no message; one that lacks some asks the primary for those, in one message. Tokens
 * taken here for a request the primary refuses go back to their leases. Every token comes from
 * the primary's one bucket, so a limit holds over every worker: one client's per_ip rate
 * exactly, whichever worker its connections reach.
 */
export class LeasedStore implements LimiterStore {
  readonly kind = 'primary';
  private readonly leases = new Map<string, Lease>();
  private sweepAt = SWEEP_AT;

  constructor(private readonly primary: PrimaryStore) {}

  /** Checks and takes a token from every bucket, or from none: at once when every bucket has a leased token. */
  consume(requests: readonly BucketRequest[]): Verdict | Promise<Verdict> {
    const now = performance.now();
    let missing = 0;
    for (const request of requests) if (!this.has(request.key, now)) missing++;
    if (missing === 0) {
      for (const request of requests) this.leases.get(request.key)!.tokens--;
      return PASS;
    }
    // Spend what is leased here; ask the primary for the rest.
    const local: string[] = [];
    const remote: BucketRequest[] = [];
    const index: number[] = [];
    requests.forEach((request, i) => {
      if (this.has(request.key, now)) {
        this.leases.get(request.key)!.tokens--;
        local.push(request.key);
      } else {
        remote.push(request);
        index.push(i);
      }
    });
    return this.primary.consume(remote, true).then((verdict) => {
      if (!verdict.ok) {
        for (const key of local) this.putBack(key);
        return { ...verdict, refusedBy: index[verdict.refusedBy] ?? verdict.refusedBy };
      }
      verdict.granted?.forEach((tokens, i) => tokens > 0 && this.keep(remote[i].key, tokens));
      return PASS;
    });
  }

  /** Drops the leases (the primary's store stays: the engine worker owns it). */
  async close(): Promise<void> {
    this.leases.clear();
  }

  private has(key: string, now: number): boolean {
    const lease = this.leases.get(key);
    if (lease === undefined) return false;
    if (lease.tokens >= 1 && lease.expires >= now) return true;
    this.leases.delete(key);
    return false;
  }

  private putBack(key: string): void {
    const lease = this.leases.get(key);
    if (lease) lease.tokens++;
    else this.keep(key, 1);
  }

  private keep(key: string, tokens: number): void {
    const now = performance.now();
    const lease = this.leases.get(key);
    if (lease !== undefined && lease.expires >= now) {
      lease.tokens += tokens;
      return;
    }
    // Clients that went away leave a lease behind: the expired ones go once the map has grown.
    if (this.leases.size >= this.sweepAt) {
      for (const [k, old] of this.leases) if (old.expires < now) this.leases.delete(k);
      this.sweepAt = Math.max(SWEEP_AT, this.leases.size * 2);
    }
    this.leases.set(key, { tokens, expires: now + LEASE_TTL_MS });
  }
}
