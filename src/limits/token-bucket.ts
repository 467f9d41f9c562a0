/**
 * A token bucket: holds up to `capacity` tokens, refills at `rate` tokens per second. `take`
 * may drive it below zero, so several consumers sharing one bucket queue up behind each other
 * and together get the rate, each paying for what it took.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /** A full bucket. */
  constructor(
    readonly rate: number,
    readonly capacity: number,
    now = performance.now(),
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes `amount` tokens if they are there; otherwise takes none and returns the ms until they will be. */
  tryTake(amount: number, now = performance.now()): number {
    this.refill(now);
    if (this.tokens >= amount) {
      this.tokens -= amount;
      return 0;
    }
    return Math.ceil(((amount - this.tokens) * 1000) / this.rate);
  }

  /** Takes `amount` tokens unconditionally; returns the ms the taker should wait to stay within the rate. */
  take(amount: number, now = performance.now()): number {
    this.refill(now);
    this.tokens -= amount;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }

  /** Takes as many whole tokens as are there, up to `max`; returns how many it took. */
  takeUpTo(max: number, now = performance.now()): number {
    this.refill(now);
    const n = Math.max(0, Math.min(max, Math.floor(this.tokens)));
    this.tokens -= n;
    return n;
  }

  /** Returns `amount` tokens (up to the capacity); a negative amount is taken. */
  putBack(amount: number, now = performance.now()): void {
    this.refill(now);
    this.tokens = Math.min(this.capacity, this.tokens + amount);
  }

  /** Whether the bucket is full (a full bucket holds no state worth keeping). */
  full(now = performance.now()): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.rate) / 1000);
  }
}
