/** Ms of a budget's rate a worker leases at a time: one message per budget about every 75 ms while a client sends at full rate. */
const LEASE_MS = 75;
/** The slowest grant rate a debt is waited at, as a fraction of the rate: a bound on one wait however many workers share the budget. */
const MAX_SLOWDOWN = 64;
/** Fewest bytes leased at a time: about one socket read, so a low rate does not ask per chunk. */
const MIN_LEASE = 16 * 1024;

/** What a worker's byte leases send to the primary. */
export interface ByteLeaseLink {
  /** Asks for `bytes` more of budget `key` (at `rate` bytes/s); false when the primary is gone. */
  ask(id: number, key: string, rate: number, bytes: number): boolean;
  /** Gives back (positive) or owns up to (negative) bytes of `key` no longer held here. */
  giveBack(key: string, rate: number, bytes: number): void;
}

/**
 * One bandwidth budget of the primary (one direction of a client's max_mbps_per_ip, or of
 * max_mbps_total) as a worker holds it: bytes leased from the primary, spent here synchronously by
 * the pacer. It asks for the next lease while half of this one is left, so a fast client does not
 * wait a round trip per lease; past the lease it runs into debt, and its taker waits the debt at
 * the rate the primary granted the last lease (how long it took: a worker that shares the budget
 * with others gets its part of the rate), so the bytes every worker passes add up to what the
 * primary's one bucket grants, with no more debt than one read per connection.
 */
export class LeasedBytes {
  private balance = 0;
  private asking = false;
  private released = false;
  private readonly lease: number;
  /** When the lease asked for went out. */
  private askedAt = 0;
  /** Bytes per second the primary granted the last lease at (the full rate until one took time). */
  private granting: number;

  constructor(
    readonly key: string,
    readonly rate: number,
    private readonly leases: ByteLeases,
  ) {
    this.lease = Math.max(MIN_LEASE, (rate * LEASE_MS) / 1000);
    this.granting = rate;
  }

  /** Spends `amount` bytes; returns the ms the taker should wait to stay within the rate. */
  take(amount: number): number {
    this.balance -= amount;
    if (!this.asking && this.balance < this.lease / 2) this.ask();
    return this.balance >= 0 ? 0 : Math.ceil((-this.balance * 1000) / this.granting);
  }

  /** The primary granted `bytes` (after the wait its bucket asked for). */
  granted(bytes: number): void {
    this.asking = false;
    if (this.released) return this.leases.link.giveBack(this.key, this.rate, bytes);
    // Granted at once: the bucket had bytes to spare, so the full rate is there.
    const took = performance.now() - this.askedAt;
    this.granting = Math.min(this.rate, Math.max(this.rate / MAX_SLOWDOWN, (bytes * 1000) / took));
    this.balance += bytes;
    if (this.balance < this.lease / 2) this.ask();
  }

  private ask(): void {
    this.askedAt = performance.now();
    this.asking = this.leases.ask(this, this.lease);
  }

  /** No connection here uses this budget any more: what is left (or owed) goes back to the primary. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.balance !== 0) this.leases.link.giveBack(this.key, this.rate, this.balance);
    this.balance = 0;
  }
}

/** A worker's leases of the primary's bandwidth budgets: routes each grant to the budget that asked. */
export class ByteLeases {
  private readonly waiting = new Map<number, LeasedBytes>();
  private nextId = 0;

  constructor(readonly link: ByteLeaseLink) {}

  /** A budget `key` at `rate` bytes per second, held here until released. */
  hold(key: string, rate: number): LeasedBytes {
    return new LeasedBytes(key, rate, this);
  }

  /** Sends a budget's ask; returns whether it went out. */
  ask(budget: LeasedBytes, bytes: number): boolean {
    const id = this.nextId++;
    if (!this.link.ask(id, budget.key, budget.rate, bytes)) return false;
    this.waiting.set(id, budget);
    return true;
  }

  /** The primary's answer to ask `id`. */
  granted(id: number, bytes: number): void {
    const budget = this.waiting.get(id);
    if (!budget) return;
    this.waiting.delete(id);
    budget.granted(bytes);
  }
}
