import type { BucketRequest, LimiterStore, Verdict } from './limiter-store.js';
import { PASS } from './limiter-store.js';
import type { PrimaryStore } from './primary-store.js';

/** Leased tokens older than this are dropped unspent: a client's burst is the bucket's, not the bucket's plus a stale lease. */
const LEASE_TTL_MS = 1_000;
/** Leases held before the expired ones are swept. */
const SWEEP_AT = 1_024;
/** Keys of the buckets counted per client address (rate_limiting.per_ip). */
const LEASED_PREFIX = 'ip:';

interface Lease {
  tokens: number;
  expires: number;
}

/**
 * Request-rate buckets of an engine worker whose buckets live in the cluster primary: per-client
 * (per_ip) tokens are leased, a small chunk at a time, and spent here synchronously, so a client
 * whose lease has a token costs no message; one without asks the primary, in the same message
 * as the global and per-user buckets the request also needs. A token taken here for a request a
 * later bucket refuses goes back to the lease. Every token comes from the primary's one bucket,
 * so one client's rate holds over every worker.
 */
export class LeasedStore implements LimiterStore {
  readonly kind = 'primary';
  private readonly leases = new Map<string, Lease>();
  private sweepAt = SWEEP_AT;

  constructor(private readonly primary: PrimaryStore) {}

  /** Checks and takes a token from every bucket, or from none: at once when only a leased token is needed. */
  consume(requests: readonly BucketRequest[]): Verdict | Promise<Verdict> {
    const index = requests.findIndex((r) => r.key.startsWith(LEASED_PREFIX));
    if (index < 0) return this.primary.consume(requests);
    const key = requests[index].key;
    const lease = this.leases.get(key);
    if (lease !== undefined && (lease.tokens < 1 || lease.expires < performance.now())) this.leases.delete(key);
    else if (lease !== undefined) {
      lease.tokens--;
      if (requests.length === 1) return PASS;
      const rest = requests.filter((_, i) => i !== index);
      return this.primary.consume(rest).then((verdict) => {
        if (verdict.ok) return verdict;
        this.putBack(key);
        return { ...verdict, refusedBy: verdict.refusedBy < index ? verdict.refusedBy : verdict.refusedBy + 1 };
      });
    }
    return this.primary.consume(requests, index).then((verdict) => {
      if (verdict.granted) this.keep(key, verdict.granted);
      return verdict;
    });
  }

  /** Drops the leases (the primary's store stays: the engine worker owns it). */
  async close(): Promise<void> {
    this.leases.clear();
  }

  private putBack(key: string): void {
    const lease = this.leases.get(key);
    if (lease) lease.tokens++;
    else this.keep(key, 1);
  }

  private keep(key: string, tokens: number): void {
    const now = performance.now();
    // Clients that went away leave a lease behind: the expired ones go once the map has grown.
    if (this.leases.size >= this.sweepAt) {
      for (const [k, lease] of this.leases) if (lease.expires < now) this.leases.delete(k);
      this.sweepAt = Math.max(SWEEP_AT, this.leases.size * 2);
    }
    this.leases.set(key, { tokens, expires: now + LEASE_TTL_MS });
  }
}
