import type { FailureLimiter } from '../auth/failure-limiter.js';
import { BandwidthLimiter } from '../limits/bandwidth.js';
import type { ByteLeases } from '../limits/byte-leases.js';
import { FleetState } from '../limits/fleet-state.js';
import type { LimiterStore } from '../limits/limiter-store.js';
import { MemoryStore } from '../limits/memory-store.js';
import type { PrimaryStore } from '../limits/primary-store.js';
import { LeasedStore } from '../limits/leased-store.js';
import { RedisStore } from '../limits/redis-store.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { LimitHit } from './limit-hit.js';
import type { SlotLeases } from './slot-leases.js';
import type { Socket } from 'node:net';
import { clientAddress } from '../protocol/client-address.js';
import type { StateSettings } from './policy-settings.js';

/**
 * Free connections under max_connections, or under max_connections_per_backend for a backend
 * (over every engine worker), below which a worker reports a change in its counts within 20 ms
 * rather than lazily: no worker gains this many connections (or requests in flight to one
 * backend) within a lazy report's delay at any rate this proxy serves.
 */
export const LAZY_HEADROOM = 4096;

/** Where the policy reports refusals and store changes. */
export interface PolicyEvents {
  hit(hit: LimitHit): void;
  warn(message: string): void;
}

/**
 * Traffic-policy state that outlives a reload: the rate-limit store, bandwidth buckets and
 * connection counters. One per engine.
 */
export class PolicyState {
  /** Bandwidth buckets (per IP and total). */
  readonly bandwidth: BandwidthLimiter;
  /** Open client connections per client IP (while max_connections_per_ip applies). */
  readonly perIp = new Map<string, number>();
  /**
   * The 'close' listener of a connection counted in `perIp` (the socket is `this`): one function
   * for every connection, so counting one allocates no closure.
   */
  readonly perIpClosed: (this: Socket) => void;
  /** Requests and tunnels in flight per backend (while max_connections_per_backend applies). */
  readonly perBackend = new Map<string, number>();
  /** What the other engine workers had in flight per backend at their last report (max_connections_per_backend counts them). */
  backendsElsewhere: ReadonlyMap<string, number> = new Map();
  /**
   * Called when `perBackend` changes (an engine worker reports it to the primary); null otherwise.
   * `near`: some worker may soon be refused for this backend (its count over every worker is within
   * LAZY_HEADROOM of max_connections_per_backend), so the report must go soon.
   */
  backendsChanged: ((near: boolean) => void) | null = null;
  /** network.limits.max_connections_per_backend of the policy in force (0: none); set by each Policy. */
  backendLimit = 0;
  private readonly holding = new WeakMap<ConnectionRecord, string>();
  /** The primary's buckets with per-client tokens leased (an engine worker); null otherwise. */
  private readonly leased: LeasedStore | null;
  private store: LimiterStore | null = null;
  private storeKey = '';
  /** Connection counts and failed-login lockouts shared with the fleet through Redis (`state.store: redis`), once a client came. */
  private fleet: FleetState | null = null;
  private fleetSettings: StateSettings | null = null;
  private links: FleetLinks | null = null;

  /**
   * `primary`: the cluster primary's buckets, for an engine worker; `slots`: max_connections_per_ip
   * leased from the primary (an engine worker on shared sockets; each policy sets its cap);
   * `bytes`: the per-IP and total bandwidth budgets leased from the primary (the same workers).
   */
  constructor(
    readonly events: PolicyEvents,
    primary: PrimaryStore | null = null,
    readonly slots: SlotLeases | null = null,
    bytes: ByteLeases | null = null,
  ) {
    this.bandwidth = new BandwidthLimiter(bytes);
    this.leased = primary ? new LeasedStore(primary) : null;
    const perIp = this.perIp;
    this.perIpClosed = function (this: Socket) {
      const address = clientAddress(this);
      const left = (perIp.get(address) ?? 1) - 1;
      if (left <= 0) perIp.delete(address);
      else perIp.set(address, left);
    };
  }

  /**
   * The store for these settings; a changed `state:` section replaces the store. In an engine
   * worker every bucket lives in the primary, per-client tokens leased (LeasedStore).
   */
  storeFor(state: StateSettings): LimiterStore {
    if (this.leased && state.store === 'memory') return this.leased;
    const key = JSON.stringify(state);
    if (this.store && key === this.storeKey) return this.store;
    void this.store?.close();
    this.storeKey = key;
    this.store =
      state.store === 'redis' && state.redis
        ? new RedisStore({ url: state.redis.url, keyPrefix: state.redis.key_prefix, onStatus: (_shared, message) => this.events.warn(message) })
        : new MemoryStore();
    return this.store;
  }

  /** What the fleet state reads from the engine: its open connections and its failed-login counts. */
  link(links: FleetLinks): void {
    this.links = links;
  }

  /** The fleet state for these settings (null without Redis); a changed `state:` section replaces it. */
  fleetFor(state: StateSettings): FleetState | null {
    if (state === this.fleetSettings) return this.fleet;
    const key = JSON.stringify(state);
    if (this.fleetSettings === null || key !== JSON.stringify(this.fleetSettings)) {
      void this.fleet?.close();
      this.fleet =
        state.store === 'redis' && state.redis
          ? new FleetState({
              url: state.redis.url,
              keyPrefix: state.redis.key_prefix,
              perIp: this.perIp,
              clientsOpen: this.links?.clientsOpen ?? (() => 0),
              failures: this.links?.failures ?? null,
              warn: (message) => this.events.warn(message),
            })
          : null;
    }
    this.fleetSettings = state;
    return this.fleet;
  }

  /** Client connections the fleet's other processes hold at the last sync, or null outside a fleet. */
  get fleetOpenElsewhere(): number | null {
    return this.fleet ? this.fleet.openElsewhere : null;
  }

  /** Whether limits are shared through Redis right now (false: local fallback), or null without a shared store. */
  get shared(): boolean | null {
    const parts = [this.store instanceof RedisStore ? this.store.isShared : null, this.fleet ? this.fleet.sharedState : null].filter((p) => p !== null);
    return parts.length === 0 ? null : parts.every(Boolean);
  }

  /** Counts a record against its backend's limit until `release`. */
  hold(record: ConnectionRecord, backend: string): void {
    const held = (this.perBackend.get(backend) ?? 0) + 1;
    this.perBackend.set(backend, held);
    this.holding.set(record, backend);
    this.backendsChanged?.(this.near(backend, held));
  }

  /** Gives back a record's backend slot, if it holds one. */
  release(record: ConnectionRecord): void {
    const backend = this.holding.get(record);
    if (backend === undefined) return;
    this.holding.delete(record);
    const left = (this.perBackend.get(backend) ?? 1) - 1;
    if (left <= 0) this.perBackend.delete(backend);
    else this.perBackend.set(backend, left);
    // Near by the count before: a slot freed where the others may be refusing goes out at once.
    this.backendsChanged?.(this.near(backend, left + 1));
  }

  /** Whether `backend`, with `held` here, is within LAZY_HEADROOM of its limit over every worker. */
  private near(backend: string, held: number): boolean {
    return this.backendLimit - held - (this.backendsElsewhere.get(backend) ?? 0) < LAZY_HEADROOM;
  }

  /** Closes the store and leaves the fleet. */
  async close(): Promise<void> {
    await Promise.all([this.store?.close(), this.fleet?.close()]);
    this.store = null;
    this.fleet = null;
    this.fleetSettings = null;
  }
}

/** What the fleet state reads from the engine. */
export interface FleetLinks {
  clientsOpen(): number;
  failures: FailureLimiter;
}
