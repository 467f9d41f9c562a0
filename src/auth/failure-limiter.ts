const MAX_TRACKED = 50_000;

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Counts failed authentication attempts per client IP in a fixed window; once an address reaches
 * the maximum, its further attempts are refused without checking until the window ends. This
 * bounds password guessing and keeps a guessing client from costing bcrypt, PAM or LDAP work.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  /** Also counts each failure elsewhere (the fleet's shared state), with the current maximum and window. */
  share: ((address: string, max: number, windowMs: number) => void) | null = null;

  constructor(
    private max: number,
    private windowMs: number,
  ) {}

  /** Takes new settings (a reload); counts so far are kept. */
  configure(max: number, windowMs: number): void {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** Milliseconds until this address may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (window === undefined) return 0;
    if (window.resetAt <= now) {
      this.windows.delete(address);
      return 0;
    }
    return window.count >= this.max ? window.resetAt - now : 0;
  }

  /** Counts a failed attempt; true when it used up the address's allowance. */
  fail(address: string, now = Date.now()): boolean {
    let window = this.windows.get(address);
    if (window === undefined || window.resetAt <= now) {
      if (this.windows.size >= MAX_TRACKED) this.sweep(now);
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(address, window);
    }
    window.count++;
    this.shared(address);
    return window.count === this.max;
  }

  /** Counts a failure of `address` elsewhere only (it was counted in the cluster primary). */
  shared(address: string): void {
    this.share?.(address, this.max, this.windowMs);
  }

  /** Refuses an address until `until` (epoch ms): it was locked out elsewhere. */
  lock(address: string, until: number): void {
    const window = this.windows.get(address);
    if (window !== undefined && window.count >= this.max && window.resetAt >= until) return;
    if (window === undefined && this.windows.size >= MAX_TRACKED) this.sweep(Date.now());
    this.windows.set(address, { count: this.max, resetAt: until });
  }

  private sweep(now: number): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
    // Still full of live windows: forget the oldest rather than grow without bound.
    if (this.windows.size >= MAX_TRACKED) this.windows.clear();
  }
}
