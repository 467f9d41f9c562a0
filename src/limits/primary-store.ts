import type { BucketRequest, LimiterStore, Verdict } from './limiter-store.js';
import { PASS } from './limiter-store.js';

type Send = (id: number, buckets: readonly BucketRequest[], lease: boolean) => boolean;

/**
 * Request-rate buckets kept by the cluster primary for every engine process (state.store:
 * memory with more than one process): a global or per-user limit then counts every process's
 * requests together. One message each way per request, and only while such a limit is set.
 */
export class PrimaryStore implements LimiterStore {
  readonly kind = 'primary';
  private readonly waiting = new Map<number, (verdict: Verdict) => void>();
  private nextId = 0;

  constructor(private readonly send: Send) {}

  /** Asks the primary to check and take a token from every bucket, or from none; `lease`: and lease more tokens of each (see LeasedStore). */
  consume(buckets: readonly BucketRequest[], lease = false): Promise<Verdict> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      // A worker cut off from its primary is exiting: let the request go rather than hang it.
      if (!this.send(id, buckets, lease)) return resolve(PASS);
      this.waiting.set(id, resolve);
    });
  }

  /** Settles a request with the primary's verdict. */
  answer(id: number, verdict: Verdict): void {
    const resolve = this.waiting.get(id);
    if (!resolve) return;
    this.waiting.delete(id);
    resolve(verdict);
  }

  /** Lets every request still waiting go. */
  async close(): Promise<void> {
    for (const resolve of this.waiting.values()) resolve(PASS);
    this.waiting.clear();
  }
}
