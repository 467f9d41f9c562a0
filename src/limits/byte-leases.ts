/** Ms of a budget's rate a worker leases at a time: one message per budget about every 75 ms while a client sends at full rate. */
const LEASE_MS = 75;
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
 * the full rate: a worker that gets only part of the rate runs deeper into debt and waits longer,
 * so the bytes every worker passes add up to what the primary's one bucket grants.
 */
export class LeasedBytes {
  private balance = 0;
  private asking = false;
  private released = false;
  private readonly lease: number;

  constructor(
    readonly key: string,
    readonly rate: number,
    private readonly leases: ByteLeases,
  ) {
    this.lease = Math.max(MIN_LEASE, (rate * LEASE_MS) / 1000);
  }

  /** Spends `amount` bytes; returns the ms the taker should wait to stay within the rate. */
  take(amount: number): number {
    this.balance -= amount;
    if (!this.asking && this.balance < this.lease / 2) this.asking = this.leases.ask(this, this.lease);
    return this.balance >= 0 ? 0 : Math.ceil((-this.balance * 1000) / this.rate);
  }

  /** The primary granted `bytes` (after the wait its bucket asked for). */
  granted(bytes: number): void {
    this.asking = false;
    if (this.released) return this.leases.link.giveBack(this.key, this.rate, bytes);
    this.balance += bytes;
    if (this.balance < this.lease / 2) this.asking = this.leases.ask(this, this.lease);
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
