import type { EventEmitter } from 'node:events';
import type { ConnectionLedger } from './connection-ledger.js';

/** How often the bytes moved are told while someone listens. */
const TICK_MS = 1000;

/**
 * Tells the bytes an engine process moved each second, open connections included (read from
 * their sockets' counters, see ByteMeters), only while something listens for them (a dashboard
 * or an event subscriber): an unwatched proxy runs no timer and keeps nothing per connection.
 * A second without traffic tells nothing.
 */
export class ThroughputTicker {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ledger: ConnectionLedger,
    private readonly tell: (bytes: number) => void,
  ) {}

  /** Ticks while `emitter` has a `throughput` listener and `draining()` is false (checked as listeners come and go). */
  follow(emitter: EventEmitter, draining: () => boolean): this {
    const followed = (): void => this.set(!draining() && emitter.listenerCount('throughput') > 0);
    emitter.on('newListener', (event: string) => event === 'throughput' && queueMicrotask(followed));
    emitter.on('removeListener', (event: string) => event === 'throughput' && queueMicrotask(followed));
    return this;
  }

  /** Ticks while `on`, from now (bytes carried before are not told). */
  set(on: boolean): void {
    const { meters, open } = this.ledger;
    meters.follow(on, open);
    if (on && this.timer === null) {
      this.timer = setInterval(() => {
        const bytes = meters.sample(open);
        if (bytes > 0) this.tell(bytes);
      }, TICK_MS);
      this.timer.unref();
    } else if (!on && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
