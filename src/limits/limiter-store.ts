/** One bucket a request must pass: a key (scope and client) and its rate and burst. */
export interface BucketRequest {
  key: string;
  /** Requests per second. */
  rate: number;
  /** Bucket size: requests allowed at once after a quiet spell. */
  burst: number;
}

/** The answer for a set of buckets. */
export interface Verdict {
  ok: boolean;
  /** Index of the first bucket that refused (when not ok). */
  refusedBy: number;
  /** When a retry may pass, in ms (when not ok). */
  retryAfterMs: number;
  /** Tokens of each bucket handed out beyond the one this request took (see LeasedStore). */
  granted?: number[];
}

/** The verdict that lets a request pass. */
export const PASS: Verdict = { ok: true, refusedBy: -1, retryAfterMs: 0 };

/**
 * Where request-rate buckets live. A request passes only if every bucket has a token, and then
 * takes one from each, atomically. In-memory stores answer synchronously (no promise on the hot
 * path); a shared store answers asynchronously.
 */
export interface LimiterStore {
  /** What this store is, for logs: `memory` or `redis`. */
  readonly kind: string;
  /** Checks and takes a token from every bucket, or from none. */
  consume(buckets: readonly BucketRequest[]): Verdict | Promise<Verdict>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
