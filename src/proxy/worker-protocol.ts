import type { ConfigSnapshot } from '../config/model.js';
import type { ConnectionRecord } from './connection-record.js';
import type { BoundListener, EngineStats, ReloadReport } from './engine.js';

/** Messages the primary sends to a worker engine. */
export type ToWorker =
  | { type: 'start'; id: number; snapshot: ConfigSnapshot }
  | { type: 'reload'; id: number; snapshot: ConfigSnapshot }
  | { type: 'stop'; id: number; drainMs?: number; forceMs?: number }
  | { type: 'stats'; id: number }
  | { type: 'subscribe'; events: ('connection:start' | 'connection:end')[] }
  /** The backends the primary's health checks have marked unhealthy now (name → reason). */
  | { type: 'health'; down: Record<string, string> };

/** Messages a worker engine sends to the primary. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'reply'; id: number; ok: true; value: BoundListener[] | ReloadReport | EngineStats | { drained: number; forced: number } }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'records'; start: ConnectionRecord[]; end: ConnectionRecord[] }
  | { type: 'warning'; message: string }
  /** What a worker's live traffic saw of a health-checked backend (passive check). */
  | { type: 'traffic'; backend: string; ok: boolean; error?: string };
