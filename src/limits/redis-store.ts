import type { Redis } from 'ioredis';
import type { BucketRequest, LimiterStore, Verdict } from './limiter-store.js';
import { MemoryStore } from './memory-store.js';
import { redact } from './redis-url.js';

/*
 * Token buckets in Redis, checked and taken in one script so that every proxy process and
 * machine sharing the server draws from the same buckets. The clock is Redis's own (TIME), so
 * nodes with skewed clocks still agree. All buckets of a request pass or none is taken.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local tokens = {}
for i = 1, n do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local v = redis.call('HMGET', KEYS[i], 't', 'ts')
  local have = tonumber(v[1])
  local ts = tonumber(v[2])
  if have == nil then have = burst; ts = now end
  have = math.min(burst, have + math.max(0, now - ts) * rate / 1000)
  if have < 1 then
    return {0, i - 1, math.ceil((1 - have) * 1000 / rate)}
  end
  tokens[i] = have
end
for i = 1, n do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - 1), 'ts', now)
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst * 1000 / rate) + 1000)
end
return {1, -1, 0}
`;

/** Settings of the Redis store. */
export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  /** Told when the store falls back to local limits and when it is back. */
  onStatus(shared: boolean, message: string): void;
}

const COMMAND_TIMEOUT_MS = 250;

/**
 * Request-rate buckets shared through Redis. While Redis cannot be reached, requests are
 * checked against local in-memory buckets instead (the proxy keeps serving), and the change is
 * reported once each way.
 */
export class RedisStore implements LimiterStore {
  readonly kind = 'redis';
  private redis: Redis | null = null;
  private readonly local = new MemoryStore();
  private shared = false;
  private reported: boolean | null = null;
  private closed = false;

  constructor(private readonly options: RedisStoreOptions) {
    // ioredis is loaded only by a proxy that uses it (it weighs about 20 MB per process); until
    // it connects, requests are checked locally as during any outage.
    void import('ioredis').then(({ Redis }) => this.connect(Redis));
  }

  private connect(RedisClient: typeof Redis): void {
    if (this.closed) return;
    const options = this.options;
    this.redis = new RedisClient(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 250, 2000),
      lazyConnect: false,
    });
    this.redis.defineCommand('takeTokens', { lua: SCRIPT });
    this.redis.on('ready', () => this.setShared(true, `rate limits are shared through redis at ${redact(options.url)}`));
    this.redis.on('error', (error: Error) => this.setShared(false, `redis at ${redact(options.url)} unreachable (${error.message}); rate limits are local to this process until it is back`));
    this.redis.on('end', () => this.setShared(false, `redis at ${redact(options.url)} closed; rate limits are local to this process`));
  }

  /** Whether limits are currently shared (false: local fallback). */
  get isShared(): boolean {
    return this.shared;
  }

  /** Checks and takes a token from every bucket in Redis, or locally while Redis is away. */
  consume(buckets: readonly BucketRequest[]): Verdict | Promise<Verdict> {
    if (!this.shared || this.redis?.status !== 'ready') return this.local.consume(buckets);
    const keys = buckets.map((b) => `${this.options.keyPrefix}:rl:${b.key}`);
    const args = buckets.flatMap((b) => [String(b.rate), String(b.burst)]);
    const run = (this.redis as unknown as { takeTokens(n: number, ...rest: string[]): Promise<[number, number, number]> }).takeTokens(keys.length, ...keys, ...args);
    return run.then(
      ([ok, refusedBy, retryAfterMs]) => ({ ok: ok === 1, refusedBy, retryAfterMs }),
      (error: Error) => {
        this.setShared(false, `redis call failed (${error.message}); rate limits are local to this process until it answers again`);
        return this.local.consume(buckets);
      },
    );
  }

  /** Disconnects from Redis. */
  async close(): Promise<void> {
    this.closed = true;
    await this.local.close();
    this.redis?.disconnect();
  }

  private setShared(shared: boolean, message: string): void {
    if (this.closed) return;
    this.shared = shared;
    if (this.reported === shared) return;
    this.reported = shared;
    this.options.onStatus(shared, message);
    if (!shared) this.probe();
  }

  /** A failed command does not always drop the connection: ask until Redis answers again. */
  private probe(): void {
    const timer = setTimeout(() => {
      if (this.closed || this.shared || this.redis?.status !== 'ready') return;
      this.redis.ping().then(
        () => this.setShared(true, `rate limits are shared through redis at ${redact(this.options.url)} again`),
        () => this.probe(),
      );
    }, 1000);
    timer.unref();
  }
}
