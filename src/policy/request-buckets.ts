import type { BucketRequest } from '../limits/limiter-store.js';
import { unmapIpv4 } from './ip-address.js';
import type { RateLimitingSettings } from './policy-settings.js';

/** One configured request-rate limit: its scope, key prefix, rate and burst. */
export interface Bucket {
  scope: 'global' | 'ip' | 'user';
  key: string;
  rate: number;
  burst: number;
}

/** Clients whose bucket lists are kept before the list is started afresh (a client's list is rebuilt on its next request). */
const KEEP = 4096;

/**
 * The request-rate buckets (rate_limiting per_ip, per_user, global) one request must pass, in
 * configuration order. A request without a user (or with one, while per_user is not set) passes
 * the same buckets every time its client asks, so their list is built once per client and kept
 * for the life of this config (a reload builds a new one): a keep-alive request on the limit path
 * allocates nothing.
 */
export class RequestBuckets {
  /** Every configured bucket, in order (what a request with a user passes). */
  readonly all: readonly Bucket[];
  /** The buckets a request without a user passes (per_user left out). */
  readonly anonymous: readonly Bucket[];
  private readonly perClient = new Map<string, readonly BucketRequest[]>();
  /** Whether per_user is configured (without it a request with a user passes its client's buckets). */
  private readonly perUser: boolean;

  /** The buckets of `rate_limiting` (none while it is not enabled). */
  constructor(rl: RateLimitingSettings) {
    const all: Bucket[] = [];
    if (rl.enabled) {
      if (rl.per_ip) all.push({ scope: 'ip', key: 'ip:', rate: rl.per_ip.requests_per_second, burst: rl.per_ip.burst });
      if (rl.per_user) all.push({ scope: 'user', key: 'user:', rate: rl.per_user.requests_per_second, burst: rl.per_user.burst });
      if (rl.global) all.push({ scope: 'global', key: 'global', rate: rl.global.requests_per_second, burst: rl.global.burst });
    }
    this.all = all;
    this.anonymous = all.filter((bucket) => bucket.scope !== 'user');
    this.perUser = this.anonymous.length !== all.length;
  }

  /** The buckets a request of `user` (or of none) passes: `requests(client, user)` asks for them in this order. */
  used(user: string | undefined): readonly Bucket[] {
    return user && this.perUser ? this.all : this.anonymous;
  }

  /** What to ask the store for a request of `client` (and `user`, when it has one). */
  requests(client: string, user: string | undefined): readonly BucketRequest[] {
    if (user && this.perUser) return this.all.map((bucket) => toRequest(bucket, client, user));
    let requests = this.perClient.get(client);
    if (requests === undefined) {
      if (this.perClient.size >= KEEP) this.perClient.clear();
      requests = this.anonymous.map((bucket) => toRequest(bucket, client, undefined));
      this.perClient.set(client, requests);
    }
    return requests;
  }
}

function toRequest(bucket: Bucket, client: string, user: string | undefined): BucketRequest {
  const key = bucket.scope === 'global' ? bucket.key : `${bucket.key}${bucket.scope === 'ip' ? unmapIpv4(client) : user}`;
  return { key, rate: bucket.rate, burst: bucket.burst };
}
