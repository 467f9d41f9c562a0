import type { BucketRequest, LimiterStore, Verdict } from './limiter-store.js';
import { PASS } from './limiter-store.js';
import { TokenBucket } from './token-bucket.js';

const SWEEP_MS = 60_000;
/** How much of a leased bucket's rate one ask takes: small, so a client moving between workers gets its rate wherever it goes. */
const LEASE_MS = 30;

/** Request-rate buckets in this process's memory; full buckets are forgotten once a minute. */
export class MemoryStore implements LimiterStore {
  readonly kind = 'memory';
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /**
   * Checks and takes a token from every bucket, or from none. With `lease`, a passing request
   * also takes up to about 30 ms of each bucket's rate in more tokens, as `granted` (one count
   * per bucket), for an engine worker to spend locally (LeasedStore).
   */
  consume(requests: readonly BucketRequest[], lease = false): Verdict {
    const now = performance.now();
    const buckets = requests.map((r) => this.bucket(r, now));
    for (let i = 0; i < buckets.length; i++) {
      const wait = buckets[i].tryTake(1, now);
      if (wait > 0) {
        // Give back what the earlier buckets already gave: all or nothing.
        for (let j = 0; j < i; j++) buckets[j].take(-1, now);
        return { ok: false, refusedBy: i, retryAfterMs: wait };
      }
    }
    if (!lease) return PASS;
    return { ...PASS, granted: buckets.map((bucket, i) => bucket.takeUpTo(Math.floor((requests[i].rate * LEASE_MS) / 1000) - 1, now)) };
  }

  /** Stops the sweeper. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private bucket(request: BucketRequest, now: number): TokenBucket {
    let bucket = this.buckets.get(request.key);
    if (!bucket || bucket.rate !== request.rate || bucket.capacity !== request.burst) {
      bucket = new TokenBucket(request.rate, request.burst, now);
      this.buckets.set(request.key, bucket);
    }
    return bucket;
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(key);
  }
}
