import { TokenBucket } from './token-bucket.js';

/** Budgets held before the idle ones (full buckets) are swept. */
const SWEEP_AT = 1_024;

/**
 * The primary's bandwidth budgets, one token bucket (a tenth of a second of burst) per budget key
 * (a client's direction for max_mbps_per_ip, a direction of max_mbps_total), leased to the
 * workers: a grant is answered once the bucket has the bytes, so the grants to every worker
 * together never pass the rate, and workers asking at once share it evenly.
 */
export class ByteBudgets {
  private readonly buckets = new Map<string, TokenBucket>();
  private sweepAt = SWEEP_AT;

  /** Takes `bytes` of budget `key` at `rate` bytes/s; calls `grant` once they are there. */
  ask(key: string, rate: number, bytes: number, grant: () => void): void {
    const wait = this.bucket(key, rate).take(bytes);
    if (wait === 0) grant();
    else setTimeout(grant, wait);
  }

  /** Bytes a worker no longer holds: unspent ones (positive) go back, a debt (negative) is charged. */
  giveBack(key: string, rate: number, bytes: number): void {
    this.bucket(key, rate).putBack(bytes);
  }

  private bucket(key: string, rate: number): TokenBucket {
    let bucket = this.buckets.get(key);
    // A reload that changed the rate starts the budget afresh.
    if (bucket?.rate === rate) return bucket;
    if (this.buckets.size >= this.sweepAt) {
      for (const [k, old] of this.buckets) if (old.full()) this.buckets.delete(k);
      this.sweepAt = Math.max(SWEEP_AT, this.buckets.size * 2);
    }
    bucket = new TokenBucket(rate, Math.max(16 * 1024, rate / 10));
    this.buckets.set(key, bucket);
    return bucket;
  }
}
