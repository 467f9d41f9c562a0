import { tmpdir } from 'node:os';
import type { BackendSpec, ConfigSnapshot, RuleSpec } from '../../../src/config/model.js';
import { debugSpec } from '../../../src/config/normalize.js';
import { runtimeSections } from '../../../src/config/sections.js';
import type { BoundListener, EngineOptions } from '../../../src/engine/engine-api.js';
import { ProxyEngine } from '../../../src/proxy/engine.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { TRUSTED_LOOPBACK } from '../../helpers/trusted-loopback.js';

/**
 * A snapshot with HTTP and SOCKS5 listeners on free loopback ports and the given backends and
 * rules. Loopback clients are trusted (`access_control.trusted_clients`) unless `patch.raw` says
 * otherwise, so the tests' loopback origins are reachable.
 */
export function snapshot(backends: BackendSpec[] = [{ name: 'direct', type: 'direct' }], rules?: RuleSpec[], patch: Partial<ConfigSnapshot> = {}): ConfigSnapshot {
  const patched = patch.raw ?? {};
  const accessControl = (patched.access_control ?? {}) as Record<string, unknown>;
  const raw = { ...patched, access_control: { trusted_clients: TRUSTED_LOOPBACK, ...accessControl } };
  const role = patch.role ?? 'server';
  return {
    role: 'server',
    source: null,
    version: 'test',
    loadedAt: Date.now(),
    listeners: [
      { kind: 'http', host: '127.0.0.1', port: 0 },
      { kind: 'socks5', host: '127.0.0.1', port: 0 },
    ],
    network: {
      ipv6: { enabled: true, preferIpv6: false },
      timeouts: { connectMs: 2000, readMs: 10_000, writeMs: 10_000, idleMs: 10_000 },
      keepalive: { enabled: true, intervalMs: 30_000, maxIdleConns: 100, maxIdleTimeMs: 30_000 },
      limits: { maxConnections: 1000, maxConnectionsPerIp: 100, maxConnectionsPerBackend: 100 },
      maxHeaderSize: 65536,
      forwardedFor: 'delete',
    },
    backends,
    rules: rules ?? [{ name: 'default', domains: ['*'], backends: [{ name: backends[0].name, weight: 1 }] }],
    ruleSets: [],
    shutdown: { acceptGraceMs: 0, drainTimeoutMs: 2000, forceTimeoutMs: 4000 },
    reload: { drainTimeoutMs: 2000 },
    logLevel: 'warn',
    workers: 1,
    metrics: null,
    debug: debugSpec(undefined, tmpdir()),
    management: { port: null, host: '127.0.0.1', hostNames: [], allowedOrigins: [], auditLog: null },
    warnings: [],
    ...patch,
    // As a load does: the sections read at run time come from the document.
    ...runtimeSections(role, raw),
    raw,
  };
}

/** A running engine with its listener addresses and every finished record. */
export interface RunningEngine {
  engine: ProxyEngine;
  http: BoundListener;
  socks: BoundListener;
  records: ConnectionRecord[];
  stop(): Promise<void>;
}

/** Starts an engine on a snapshot; the caller stops it (t.after). */
export async function startEngine(config: ConfigSnapshot, options?: EngineOptions): Promise<RunningEngine> {
  const engine = new ProxyEngine(config, options);
  const records: ConnectionRecord[] = [];
  engine.on('connection:end', (record) => records.push(record));
  const bound = await engine.start();
  return {
    engine,
    http: bound.find((l) => l.kind === 'http')!,
    socks: bound.find((l) => l.kind === 'socks5')!,
    records,
    stop: async () => {
      await engine.stop({ drainMs: 0 });
    },
  };
}
