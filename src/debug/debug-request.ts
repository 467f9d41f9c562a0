import type { DebugSpec } from '../config/model.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { TrafficCounts } from './traffic-stats.js';
import type { CaMaterial } from '../mitm/ca-store.js';

/** One debugger event: a request routed, or its end. Records are already masked. */
export interface TrafficEvent {
  phase: 'request' | 'response';
  record: ConnectionRecord;
}

/** The debugger settings every engine process follows, and whether it records now. */
export interface DebugState {
  spec: DebugSpec;
  on: boolean;
  /** The interception CA, given while `spec.mitm.enabled` (its key stays in the engine processes' memory). */
  ca?: CaMaterial;
}

/** What the daemon asks of each engine process's traffic recorder. */
export type DebugRequest =
  | { op: 'set'; state: DebugState }
  | { op: 'list'; limit: number; text?: string }
  | { op: 'get'; id: string }
  | { op: 'counts' }
  | { op: 'clear' };

/** One engine process's answer to each kind of request. */
export interface DebugAnswers {
  set: null;
  /** Newest first, at most the limit asked for. */
  list: ConnectionRecord[];
  get: ConnectionRecord | null;
  counts: TrafficCounts;
  clear: null;
}

/** One engine process's answer to this request. */
export type DebugAnswer<R extends DebugRequest> = DebugAnswers[R['op']];
