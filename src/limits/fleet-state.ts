import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import { PerIpShare, type IpCount } from '../policy/per-ip-share.js';
import { redact } from './redis-url.js';

/*
 * One round trip per sync: this process's counts go into its own hash (expiring unless renewed,
 * so a node that dies stops counting within NODE_TTL_MS), and the sums of every other live
 * process's hashes come back, with the failed-login lockouts in force. Redis's clock (TIME) is the
 * only one used. Returns {live processes, {field, sum, ...}, {address, ms left, ...}}; field `*`
 * is a process's open connections in all, the others client addresses.
 */
const SYNC = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, node, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local nodes = prefix .. ':nodes'
local own = prefix .. ':conn:' .. node
redis.call('ZREMRANGEBYSCORE', nodes, '-inf', now)
redis.call('ZADD', nodes, now + ttl, node)
if ARGV[4] == '1' then redis.call('DEL', own) end
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '0' then redis.call('HDEL', own, ARGV[i]) else redis.call('HSET', own, ARGV[i], ARGV[i + 1]) end
end
redis.call('PEXPIRE', own, ttl)
local sums, order = {}, {}
local members = redis.call('ZRANGE', nodes, 0, -1)
for _, other in ipairs(members) do
  if other ~= node then
    local h = redis.call('HGETALL', prefix .. ':conn:' .. other)
    for j = 1, #h, 2 do
      if sums[h[j]] == nil then sums[h[j]] = 0; order[#order + 1] = h[j] end
      sums[h[j]] = sums[h[j]] + tonumber(h[j + 1])
    end
  end
end
local counts = {}
for _, f in ipairs(order) do counts[#counts + 1] = f; counts[#counts + 1] = sums[f] end
local locksKey = prefix .. ':locks'
redis.call('ZREMRANGEBYSCORE', locksKey, '-inf', now)
local raw = redis.call('ZRANGE', locksKey, 0, -1, 'WITHSCORES')
local locks = {}
for j = 1, #raw, 2 do locks[#locks + 1] = raw[j]; locks[#locks + 1] = tonumber(raw[j + 1]) - now end
return {#members, counts, locks}
`;

/*
 * A failed login, counted for the whole fleet in a fixed window: once the count reaches the
 * maximum the address is locked until the window ends, for every process. Returns {count, ms left}.
 */
const FAIL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = ARGV[1] .. ':authfail:' .. ARGV[2]
local n = redis.call('INCR', key)
if n == 1 then redis.call('PEXPIRE', key, ARGV[4]) end
local left = redis.call('PTTL', key)
if n >= tonumber(ARGV[3]) then redis.call('ZADD', ARGV[1] .. ':locks', now + left, ARGV[2]) end
return {n, left}
`;

type FleetRedis = Redis & {
  fleetSync(...args: string[]): Promise<[number, (string | number)[], (string | number)[]]>;
  fleetFail(...args: string[]): Promise<[number, number]>;
};

/** How often a process sends its counts and reads the others'. */
const SYNC_MS = 100;
/** How long a process's counts count without a sync (it died, or lost Redis). */
const NODE_TTL_MS = 3000;

/** Settings of the fleet state. */
export interface FleetOptions {
  url: string;
  keyPrefix: string;
  /** This process's open connections per client (PolicyState.perIp). */
  perIp: ReadonlyMap<string, number>;
  /** This process's open client connections. */
  clientsOpen(): number;
  /** This process's failed-login counts: lockouts are shared through it (null: connection counts only). */
  failures: FailureLimiter | null;
  /** Told when the counts stop being shared and when they are again. */
  warn(message: string): void;
}

/**
 * Connection counts and failed-login lockouts shared by every process of a fleet through Redis
 * (`state.store: redis`): max_connections and max_connections_per_ip count the connections every
 * live process holds, and an address locked out after too many failed logins on one node is
 * refused on every node. Admission stays synchronous: it reads what the last sync (at most
 * SYNC_MS old) brought, so a limit holds within one sync. While Redis cannot be reached every
 * process counts on its own, as with `store: memory`, and says so once each way.
 */
export class FleetState {
  /** Per-client counts: which clients this process writes to Redis, and what the others hold. */
  readonly perIp: PerIpShare;
  /** Connections the other processes of the fleet hold, at the last sync. */
  openElsewhere = 0;
  private readonly node = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private redis: FleetRedis | null = null;
  private shared = false;
  private reported: boolean | null = null;
  private rewrite = true;
  private sentTotal = -1;
  private syncing = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: FleetOptions) {
    // Until the first sync this process is the whole fleet as far as it knows.
    this.perIp = new PerIpShare(1, options.perIp);
    if (options.failures) options.failures.share = (address, max, windowMs) => this.failed(address, max, windowMs);
    void import('ioredis').then(({ Redis: Client }) => this.connect(Client));
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
  }

  /** Whether counts and lockouts are shared now (false: local fallback). */
  get isShared(): boolean {
    return this.shared;
  }

  /** As isShared, but null until the first sync or failure (a process just started is not falling back). */
  get sharedState(): boolean | null {
    return this.reported;
  }

  /** Whether this process plus what the others hold has reached `max` connections. */
  full(max: number): boolean {
    return this.options.clientsOpen() + this.openElsewhere >= max;
  }

  /** Stops syncing and takes this process's counts out of the fleet. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.options.failures) this.options.failures.share = null;
    const redis = this.redis;
    if (!redis) return;
    if (redis.status === 'ready') {
      const prefix = this.options.keyPrefix;
      await Promise.all([redis.del(`${prefix}:conn:${this.node}`), redis.zrem(`${prefix}:nodes`, this.node)]).catch(() => undefined);
    }
    redis.disconnect();
  }

  private connect(Client: typeof Redis): void {
    if (this.closed) return;
    const url = redact(this.options.url);
    const redis = new Client(this.options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 250, 2000),
    }) as FleetRedis;
    redis.defineCommand('fleetSync', { lua: SYNC, numberOfKeys: 0 });
    redis.defineCommand('fleetFail', { lua: FAIL, numberOfKeys: 0 });
    redis.on('ready', () => (this.rewrite = true));
    const lost = (why: string): void => this.setShared(false, `redis at ${url} ${why}; connection limits and failed-login lockouts count this process alone until it is back`);
    redis.on('error', (error: Error) => lost(`unreachable (${error.message})`));
    redis.on('close', () => lost('closed the connection'));
    this.redis = redis;
  }

  private async sync(): Promise<void> {
    const redis = this.redis;
    if (this.syncing || this.closed || redis?.status !== 'ready') return;
    this.syncing = true;
    const total = this.options.clientsOpen();
    const changes = this.perIp.take() ?? [];
    const rewrite = this.rewrite;
    const fields: string[] = [];
    if (rewrite) for (const [address, open] of this.perIp.reportedCounts()) fields.push(address, String(open));
    else for (const [address, open] of changes) fields.push(address, String(open));
    if (rewrite || total !== this.sentTotal) fields.push('*', String(total));
    try {
      const [live, counts, locks] = await redis.fleetSync(this.options.keyPrefix, this.node, String(NODE_TTL_MS), rewrite ? '1' : '0', ...fields);
      this.rewrite = false;
      this.sentTotal = total;
      this.apply(live, counts, locks);
      this.setShared(true, `connection limits and failed-login lockouts count the whole fleet through redis at ${redact(this.options.url)}`);
    } catch (error) {
      // What was sent may not have arrived: the next sync writes everything again.
      this.rewrite = true;
      this.setShared(false, `redis call failed (${(error as Error).message}); connection limits and failed-login lockouts count this process alone until it answers again`);
    } finally {
      this.syncing = false;
    }
  }

  private apply(live: number, counts: (string | number)[], locks: (string | number)[]): void {
    let elsewhere = 0;
    const perIp: IpCount[] = [];
    for (let i = 0; i < counts.length; i += 2) {
      if (counts[i] === '*') elsewhere = Number(counts[i + 1]);
      else perIp.push([String(counts[i]), Number(counts[i + 1])]);
    }
    this.openElsewhere = elsewhere;
    this.perIp.setProcesses(Math.max(1, live));
    this.perIp.replace(perIp);
    const now = Date.now();
    for (let i = 0; i < locks.length; i += 2) this.options.failures?.lock(String(locks[i]), now + Number(locks[i + 1]));
  }

  private failed(address: string, max: number, windowMs: number): void {
    const redis = this.redis;
    if (!this.shared || redis?.status !== 'ready') return;
    redis.fleetFail(this.options.keyPrefix, address, String(max), String(windowMs)).then(
      ([count, left]) => {
        if (count >= max) this.options.failures?.lock(address, Date.now() + left);
      },
      () => undefined,
    );
  }

  private setShared(shared: boolean, message: string): void {
    if (this.closed) return;
    this.shared = shared;
    if (!shared) {
      // Local fallback: only this process's own counts.
      this.openElsewhere = 0;
      this.perIp.replace([]);
    }
    if (this.reported === shared) return;
    this.reported = shared;
    this.options.warn(message);
  }
}
