import type { Socket } from 'node:net';
import type { Backend, DialOptions, Target } from '../backends/backend.js';
import { lookupMs } from '../backends/dial-timing.js';
import { backendFault } from '../health/backend-fault.js';
import type { HealthSource } from '../health/health-source.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { Resolution } from './runtime.js';

/**
 * Dials the target through the resolved backend; the outcome feeds the backend's passive health
 * and the record's timings (name resolution, when the dial resolved one here, apart from the
 * connect time). For a balanced or health-checked rule, a failure the backend caused is retried
 * once through another healthy member (the record then names the member that carried it). A
 * rule's only backend costs one promise on top of the dial's own, as every tunnel takes this path.
 */
export function dialRouted(resolution: Extract<Resolution, { ok: true }>, target: Target, options: DialOptions, client: string, record: ConnectionRecord): Promise<Socket> {
  const started = Date.now();
  if (resolution.group) return dialGroup(resolution, target, options, client, record, started);
  const { backend, passive } = resolution;
  return backend.dial(target, options).then(
    (socket) => {
      timed(record, socket, started);
      passive?.report(backend.name, true);
      return socket;
    },
    (error: unknown) => failed(passive, backend, error),
  );
}

/** The dial's times in the record: the name lookup (when this dial made one) apart from the connect time. */
function timed(record: ConnectionRecord, socket: Socket, started: number): void {
  const dns = lookupMs(socket);
  if (dns !== undefined) record.dnsMs = dns;
  record.connectMs = Date.now() - started - (dns ?? 0);
}

/** A failed dial through a rule's only backend, reported as its passive health when the backend caused it. */
function failed(passive: HealthSource | undefined, backend: Backend, error: unknown): never {
  if (passive && backendFault(error, backend.type)) passive.report(backend.name, false, (error as Error).message);
  throw error;
}

async function dialGroup(resolution: Extract<Resolution, { ok: true }>, target: Target, options: DialOptions, client: string, record: ConnectionRecord, started: number): Promise<Socket> {
  const group = resolution.group!;
  let backend = resolution.backend;
  for (let attempt = 0; ; attempt++) {
    try {
      const socket = await backend.dial(target, options);
      group.report(backend, true);
      group.opened(backend, socket);
      timed(record, socket, started);
      return socket;
    } catch (error) {
      if (!backendFault(error, backend.type)) throw error;
      group.report(backend, false, (error as Error).message);
      const other = attempt === 0 ? group.pick(client, backend) : null;
      if (!other) throw error;
      backend = other;
      record.backend = other.name;
    }
  }
}
