import { EventEmitter } from 'node:events';
import type { ConfigSnapshot } from '../config/model.js';
import type { ConnectionRecord } from './connection-record.js';

/** A listener the engine has bound. */
export interface BoundListener {
  kind: 'http' | 'socks5';
  host: string;
  port: number;
  tls: boolean;
}

/** Counters the engine keeps in place (cheap to read at any time). */
export interface EngineStats {
  startedAt: number;
  connectionsActive: number;
  connectionsTotal: number;
  backends: Record<string, { active: number; total: number; errors: number }>;
}

/** What a reload did. */
export interface ReloadReport {
  version: string;
  previousVersion: string;
  /** Settings that changed but only take effect after a restart (ports, bind address, TLS, auth mode). */
  restartRequired: string[];
}

/** The answer to "where would this host go?". */
export interface RouteExplanation {
  host: string;
  /** The rule that wins (first match in file order), with its position (0-based). */
  rule: { name: string; index: number; pattern: string } | null;
  backend: string | null;
  /** Later rules that also match this host but lose to the winner. */
  alsoMatching: { name: string; index: number; pattern: string }[];
}

/** Events the engine publishes. */
export interface EngineEvents {
  /** A request or tunnel was admitted and routed (debugger REQ line). */
  'connection:start': [ConnectionRecord];
  /** A request or tunnel ended (access log, metrics, debugger RES line). */
  'connection:end': [ConnectionRecord];
  /** Something a person should know (listener error, backend unavailable). */
  warning: [string];
}

/** The proxy engine: listeners, routing snapshot, backends and live connections. */
export declare class ProxyEngine extends EventEmitter<EngineEvents> {
  constructor(snapshot: ConfigSnapshot);
  /** The config snapshot new connections use. */
  get snapshot(): ConfigSnapshot;
  /** Binds every listener; rejects (and binds none) if any cannot be bound. */
  start(): Promise<BoundListener[]>;
  /** Listeners currently bound. */
  listeners(): BoundListener[];
  /** Swaps in a new snapshot atomically; open connections keep the one they started with. */
  reload(next: ConfigSnapshot): Promise<ReloadReport>;
  /** Stops accepting, drains open connections up to drainMs, destroys the rest at forceMs. */
  stop(options?: { drainMs?: number; forceMs?: number }): Promise<{ drained: number; forced: number }>;
  /** Live counters. */
  stats(): EngineStats;
  /** Opens one connection through a backend to a probe target and reports how long it took. */
  testBackend(name: string, target?: { host: string; port: number }): Promise<{ ok: boolean; latencyMs: number; error?: string }>;
  /** Which rule and backend a host would take now, and which rules matched but were shadowed by an earlier one. */
  explainRoute(host: string): RouteExplanation;
}
