import type { FailureLimiter } from './failure-limiter.js';

/** Watched clients kept before the ones whose window ended are swept. */
const SWEEP_AT = 1_024;
/** No answer: this worker is cut off from the primary. */
const CUT_OFF = -1;

/** What an engine worker sends the primary about failed logins (false: it is cut off, exiting). */
export interface AttemptLink {
  ask(id: number, address: string): boolean;
  done(address: string): boolean;
  failed(id: number, address: string, leased: boolean): boolean;
}

/**
 * An engine worker's side of failed-login lockouts counted in the cluster primary (AttemptPool):
 * a client the primary has not named costs nothing; one it watches (it has failures on record)
 * is checked only with the primary's go-ahead, and each failure is counted there before it is
 * answered, so a lock reached on any worker holds on every one. The local FailureLimiter takes
 * the primary's locks, and decides alone once this worker is cut off from it.
 */
export class AttemptLeases {
  private readonly watched = new Map<string, number>();
  private readonly pending = new Map<number, (until: number) => void>();
  private nextId = 0;
  private sweepAt = SWEEP_AT;
  private failures: FailureLimiter | null = null;

  constructor(private readonly link: AttemptLink) {}

  /** The engine's local count, which takes the primary's locks (AuthState calls this). */
  follow(failures: FailureLimiter): void {
    this.failures = failures;
  }

  /** The primary says `address` has failures on record until `until` (epoch ms), locked or not. */
  watch(address: string, until: number, locked: boolean, now = Date.now()): void {
    if (until <= now) return;
    if (this.watched.size >= this.sweepAt) {
      for (const [known, end] of this.watched) if (end <= now) this.watched.delete(known);
      this.sweepAt = Math.max(SWEEP_AT, this.watched.size * 2);
    }
    this.watched.set(address, until);
    if (locked) this.failures?.lock(address, until);
  }

  /** Whether an attempt of `address` needs the primary's go-ahead. */
  watches(address: string, now = Date.now()): boolean {
    const until = this.watched.get(address);
    if (until === undefined) return false;
    if (until > now) return true;
    this.watched.delete(address);
    return false;
  }

  /** Asks for the go-ahead: 0 when given (or when cut off from the primary), else when the lock ends (epoch ms). */
  ask(address: string): Promise<number> {
    return this.request((id) => this.link.ask(id, address)).then((until) => {
      if (until <= 0) return 0;
      this.failures?.lock(address, until);
      return until;
    });
  }

  /** An attempt given the go-ahead ended without a failure. */
  done(address: string): void {
    this.link.done(address);
  }

  /** Counts a failure with the primary; resolves with when the lock it caused ends (epoch ms), 0 when none, or null when cut off (the local count decides). */
  failed(address: string, leased: boolean): Promise<number | null> {
    return this.request((id) => this.link.failed(id, address, leased)).then((until) => {
      if (until === CUT_OFF) return null;
      if (until > 0) this.failures?.lock(address, until);
      return until;
    });
  }

  /** The primary's answer to an ask or a failure. */
  answer(id: number, until: number): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(until);
  }

  private request(send: (id: number) => boolean): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!send(id)) return resolve(CUT_OFF);
      this.pending.set(id, resolve);
    });
  }
}
