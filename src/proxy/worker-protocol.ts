import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ConfigSnapshot } from '../config/model.js';
import type { AuthClientView } from '../auth/client-registry.js';
import type { DebugAnswer, DebugRequest, DebugState } from '../debug/debug-request.js';
import type { BucketRequest, Verdict } from '../limits/limiter-store.js';
import type { LimitHit } from '../policy/limit-hit.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { BoundListener, EngineStats, ReloadReport } from '../engine/engine-api.js';
import type { ConnectionFilter } from '../protocol/connection-filter.js';

/** Connections in flight per backend, as load reports carry them (max_connections_per_backend). */
export type BackendCounts = [backend: string, open: number][];

/** Messages the primary sends to a worker engine. */
export type ToWorker =
  /** Bind the shared listeners and serve them. */
  | { type: 'start'; id: number; snapshot: ConfigSnapshot; debug: DebugState | null; processes: number; pinned: string[]; watched: { address: string; until: number; locked: boolean }[] }
  | { type: 'reload'; id: number; snapshot: ConfigSnapshot }
  | { type: 'stop'; id: number; drainMs?: number; forceMs?: number }
  | { type: 'stats'; id: number }
  | { type: 'metrics'; id: number }
  | { type: 'clients'; id: number }
  | { type: 'connections'; id: number }
  | { type: 'close'; id: number; filter: ConnectionFilter }
  | { type: 'debug'; id: number; request: DebugRequest }
  /** The events the primary listens for now; the others stay in the worker. */
  | { type: 'subscribe'; id: number; events: ('connection:start' | 'connection:end' | 'limit:hit' | 'traffic' | 'throughput')[] }
  /** The backends the primary's health checks have marked unhealthy now (name → reason). */
  | { type: 'health'; down: Record<string, string> }
  /** A client connection another worker passed (see `pass`), accepted on listener `listener`: the socket is the message's handle. */
  | { type: 'connection'; listener: number }
  /** Client connections the other workers have open, and their connections in flight per backend (max_connections and max_connections_per_backend count them). */
  | { type: 'elsewhere'; active: number; backends: BackendCounts }
  /** Count client `address` with the other workers and give back its idle max_connections_per_ip slots; the reply is the slots held then. */
  | { type: 'slots-reclaim'; id: number; address: string }
  /** The answer to a `slots-ask`: this worker holds `held` slots of `address` now (no more than it has open: refused). */
  | { type: 'slots-grant'; address: string; held: number }
  /** Client `address` is counted over the workers no more (each holds its share again). */
  | { type: 'slots-unpin'; address: string }
  /** Client `address` has failed logins on record until `until` (epoch ms): ask before checking its credentials; `locked`: refuse it until then. */
  | { type: 'auth-watch'; address: string; until: number; locked: boolean }
  /** The answer to an `auth-ask` or `auth-failed`: 0, or when the client's lock ends (epoch ms). */
  | { type: 'auth-answer'; id: number; until: number }
  /** The answer to a `bytes-ask`: `bytes` of the budget are this worker's to spend. */
  | { type: 'bytes-grant'; id: number; bytes: number }
  /** The primary's answer to a `limit` request. */
  | { type: 'verdict'; id: number; verdict: Verdict }
  /** Another worker's client refused the interception certificate for `host`. */
  | { type: 'mitm-rejected'; host: string };

/** Messages a worker engine sends to the primary. */
export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'reply';
      id: number;
      ok: true;
      value: BoundListener[] | ReloadReport | EngineStats | ConnectionRecord[] | number | { drained: number; forced: number } | MetricObjectWithValues<MetricValue<string>>[][] | AuthClientView[][] | DebugAnswer<DebugRequest>[] | null;
    }
  | { type: 'reply'; id: number; ok: false; error: string }
  /** Engine record events, and the debugger's masked ones (start: its request, end: its response). */
  | { type: 'records'; events: RecordEvent[]; traffic: RecordEvent[] }
  | { type: 'limit-hits'; hits: LimitHit[] }
  /** Bytes this worker moved in the last second (sent once a second while the primary wants them). */
  | { type: 'throughput'; bytes: number }
  | { type: 'warning'; message: string }
  /** A client refused the interception certificate for `host` here: the primary tells the other workers. */
  | { type: 'mitm-rejected'; host: string }
  /** What a worker's live traffic saw of a health-checked backend (passive check). */
  | { type: 'traffic'; backend: string; ok: boolean; error?: string }
  /** Open client connections now, connections passed to it by the daemon that it has received so far, and connections in flight per backend (for max_connections, max_connections_per_backend, the balance and a crash's count). */
  | { type: 'load'; active: number; received: number; backends: BackendCounts }
  /** A client connection this worker accepted on listener `listener` while over its share, unread (the message's handle), for the worker with the fewest; with this worker's load. */
  | { type: 'pass'; listener: number; active: number; received: number; backends: BackendCounts }
  /** More max_connections_per_ip slots of `address`, which has `open` connections here and `want` waiting. */
  | { type: 'slots-ask'; address: string; open: number; want: number }
  /** Every slot of `address` back: nothing of it is open here. */
  | { type: 'slots-release'; address: string }
  /** May a credential of watched client `address` be checked now (server.auth.failed_attempts)? */
  | { type: 'auth-ask'; id: number; address: string }
  /** An attempt `auth-ask` allowed ended without a failed login. */
  | { type: 'auth-done'; address: string }
  /** A failed login of `address` (`leased`: an attempt `auth-ask` allowed); answered once counted. */
  | { type: 'auth-failed'; id: number; address: string; leased: boolean }
  /** `bytes` more of bandwidth budget `key` (max_mbps_per_ip, max_mbps_total) at `rate` bytes/s. */
  | { type: 'bytes-ask'; id: number; key: string; rate: number; bytes: number }
  /** Bytes of budget `key` this worker holds no more: unspent (positive) or spent past its lease (negative). */
  | { type: 'bytes-return'; key: string; rate: number; bytes: number }
  /** Request-rate buckets to check in the primary's shared store; `lease`: and lease more tokens of each. */
  | { type: 'limit'; id: number; buckets: readonly BucketRequest[]; lease: boolean };

/** A record's start or end, in the order the worker saw them; `both` for one that began and ended within a batch. */
export interface RecordEvent {
  phase: 'start' | 'end' | 'both';
  record: ConnectionRecord;
}
