import type { Socket } from 'node:net';
import type { ByteLeases } from './byte-leases.js';
import { holdOf, holds, type GrantWait, type Hold } from './hold.js';
import { TokenBucket } from './token-bucket.js';

/** Bytes that pass, per direction: returns what the source should wait for before sending more. */
export type Pace = (bytes: number) => Hold;

/** The two directions of one connection. */
export interface Pacer {
  /** Client to upstream. */
  up: Pace;
  /** Upstream to client. */
  down: Pace;
  /** Gives back the shared per-IP state when the connection ends. */
  release(): void;
}

/** `rate_limiting.bandwidth` in bytes per second (0: no limit at that level). */
export interface BandwidthLimits {
  perConnection: number;
  perIp: number;
  total: number;
}

/** Mbit/s to bytes per second. */
export function mbpsToBytes(mbps: number): number {
  return (mbps * 1_000_000) / 8;
}

// A bucket holds a tenth of a second of traffic: enough to absorb one socket read, small enough
// that the rate over a few seconds is the configured one.
const burstOf = (rate: number): number => Math.max(16 * 1024, rate / 10);
const bucket = (rate: number): TokenBucket | null => (rate > 0 ? new TokenBucket(rate, burstOf(rate)) : null);

/** Bytes of a budget spent: what the taker should wait for (a local bucket's ms, or a leased budget's grants). */
interface Budget {
  take(amount: number, now: number): Hold;
  /** A leased budget's bytes go back to the primary. */
  release?(): void;
}

interface Shared {
  up: Budget;
  down: Budget;
  users: number;
}

/**
 * Bandwidth throttling at three levels. Every connection of one client IP draws from that IP's
 * buckets, every connection from the total buckets; since a taker waits for the debt it ran up,
 * connections competing for one bucket share it evenly. Each direction is limited on its own.
 * In an engine worker among several (`leases`), the per-IP and total buckets are the primary's,
 * each held here as a lease (LeasedBytes), so they hold over every worker.
 */
export class BandwidthLimiter {
  private readonly perIp = new Map<string, Shared>();
  private total: { up: Budget; down: Budget } | null = null;
  private limits: BandwidthLimits = { perConnection: 0, perIp: 0, total: 0 };

  constructor(private readonly leases: ByteLeases | null = null) {}

  /** A budget of `rate` bytes/s: the primary's `key` when leased, a bucket of its own otherwise. */
  private budget(key: string, rate: number): Budget {
    return this.leases ? this.leases.hold(key, rate) : bucket(rate)!;
  }

  /** Applies new limits (a reload); connections already open keep the buckets they have. */
  configure(limits: BandwidthLimits): void {
    // A changed rate is a new budget in the primary too: the old one's lease is simply dropped.
    if (limits.total !== this.limits.total) this.total = limits.total > 0 ? { up: this.budget('total:up', limits.total), down: this.budget('total:down', limits.total) } : null;
    if (limits.perIp !== this.limits.perIp) this.perIp.clear();
    this.limits = limits;
  }

  /** The pacer for a new connection from `client`, or null when no limit applies. */
  pacer(client: string): Pacer | null {
    const { perConnection, perIp } = this.limits;
    if (perConnection === 0 && perIp === 0 && this.total === null) return null;
    const own = perConnection > 0 ? { up: bucket(perConnection)!, down: bucket(perConnection)! } : null;
    let shared: Shared | undefined;
    if (perIp > 0) {
      shared = this.perIp.get(client);
      if (!shared) this.perIp.set(client, (shared = { up: this.budget(`ip:${client}:up`, perIp), down: this.budget(`ip:${client}:down`, perIp), users: 0 }));
      shared.users++;
    }
    const total = this.total;
    const pace = (direction: 'up' | 'down'): Pace => {
      const buckets = [own?.[direction], shared?.[direction], total?.[direction]].filter((b): b is Budget => b !== undefined);
      return (bytes) => {
        const now = performance.now();
        let wait = 0;
        let grants: GrantWait[] | null = null;
        for (const b of buckets) {
          const hold = b.take(bytes, now);
          if (typeof hold === 'number') wait = Math.max(wait, hold);
          else (grants ??= []).push(hold);
        }
        return holdOf(wait, grants);
      };
    };
    let released = false;
    return {
      up: pace('up'),
      down: pace('down'),
      release: () => {
        if (released || !shared) return;
        released = true;
        if (--shared.users > 0) return;
        if (this.perIp.get(client) === shared) this.perIp.delete(client);
        shared.up.release?.();
        shared.down.release?.();
      },
    };
  }
}

/**
 * Pipes `from` into `to` at the pace `pace` allows, with the writer's backpressure: after each
 * chunk the source pauses until the peer drained and the pace's wait is over. Starts the flow. Only used when a
 * bandwidth limit applies; the unthrottled relay keeps its plain pipe.
 */
export function pacedPipe(from: Socket, to: Socket, pace: Pace): void {
  from.on('data', (chunk: Buffer) => {
    holdAfterWrite(to.write(chunk), pace(chunk.length), to, () => from.pause(), () => from.resume());
  });
  from.once('end', () => to.end());
  // A front may have paused the source while it dialled (SOCKS5 does): a 'data' listener alone
  // does not restart a stream that was paused explicitly.
  from.resume();
}

/**
 * After a write of a paced stream: when the peer's buffer is full or the pace asks for a wait,
 * calls `pause` now and `resume` once both are over. Returns whether the source may go on at once.
 */
export function holdAfterWrite(writeOk: boolean, hold: Hold, to: NodeJS.EventEmitter, pause: () => void, resume: () => void): boolean {
  const waits = holds(hold);
  if (writeOk && !waits) return true;
  let pending = (writeOk ? 0 : 1) + (waits ? 1 : 0);
  const done = (): void => {
    if (--pending === 0) resume();
  };
  pause();
  if (!writeOk) to.once('drain', done);
  if (typeof hold !== 'number') hold.onGranted(done);
  else if (hold > 0) setTimeout(done, hold);
  return false;
}
