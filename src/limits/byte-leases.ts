import type { GrantWait, Hold } from './hold.js';

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

/** A taker that ran ahead of the grants: goes on once the budget has been granted `upTo` bytes in all. */
interface Waiter {
  upTo: number;
  ready: () => void;
}

/**
 * One bandwidth budget of the primary (one direction of a client's max_mbps_per_ip, or of
 * max_mbps_total) as a worker holds it: bytes leased from the primary, spent here synchronously by
 * the pacer. It asks for the next lease while half of this one is left, so a fast client does not
 * wait a round trip per lease. Past the lease a taker runs into debt and waits until grants cover
 * what it took, however long the primary takes to grant (its one bucket paces the grants to every
 * worker): the bytes every worker passes add up to what the primary granted, plus at most one read
 * per connection.
 */
export class LeasedBytes {
  private balance = 0;
  /** Bytes granted here since the budget was held: a waiter goes on once this reaches its mark. */
  private grantedInAll = 0;
  private readonly waiters: Waiter[] = [];
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

  /** Spends `amount` bytes; returns what the taker should wait for to stay within the rate. */
  take(amount: number): Hold {
    this.balance -= amount;
    if (!this.asking && this.balance < this.lease / 2) this.ask();
    if (this.balance >= 0) return 0;
    // Cut off from the primary (exiting): nothing will be granted, so the debt is waited at the full rate.
    if (!this.asking) return Math.ceil((-this.balance * 1000) / this.rate);
    return new Covering(this, this.grantedInAll - this.balance);
  }

  /** Calls `ready` once `upTo` bytes were granted in all (on the next turn when they were already). */
  waitFor(upTo: number, ready: () => void): void {
    if (this.grantedInAll >= upTo || !this.asking) queueMicrotask(ready);
    else this.waiters.push({ upTo, ready });
  }

  /** The primary granted `bytes` (after the wait its bucket asked for). */
  granted(bytes: number): void {
    this.asking = false;
    if (this.released) return this.leases.link.giveBack(this.key, this.rate, bytes);
    this.balance += bytes;
    this.grantedInAll += bytes;
    if (this.balance < this.lease / 2) this.ask();
    this.wake();
  }

  private ask(): void {
    this.asking = this.leases.ask(this, this.lease);
  }

  /** Lets go the takers the grants cover (all of them when no grant is coming). */
  private wake(): void {
    let n = 0;
    while (n < this.waiters.length && (!this.asking || this.waiters[n]!.upTo <= this.grantedInAll)) n++;
    for (const waiter of this.waiters.splice(0, n)) waiter.ready();
  }

  /** No connection here uses this budget any more: what is left (or owed) goes back to the primary. */
  release(): void {
    if (this.released) return;
    this.released = true;
    // Their connections are gone: nobody is left to go on.
    this.waiters.length = 0;
    if (this.balance !== 0) this.leases.link.giveBack(this.key, this.rate, this.balance);
    this.balance = 0;
  }
}

/** A taker's wait on a leased budget's grants. */
class Covering implements GrantWait {
  constructor(
    private readonly budget: LeasedBytes,
    private readonly upTo: number,
  ) {}

  onGranted(ready: () => void): void {
    this.budget.waitFor(this.upTo, ready);
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
