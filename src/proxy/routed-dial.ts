import type { Socket } from 'node:net';
import type { DialOptions, Target } from '../backends/backend.js';
import { lookupMs } from '../backends/dial-timing.js';
import { backendFault } from '../health/backend-fault.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { Resolution } from './runtime.js';

/**
 * Dials the target through the resolved backend; the outcome feeds the backend's passive health,
 * the time it took the record's timings (name resolution, when the dial resolved one here, apart).
 * For a balanced or health-checked rule, a failure the backend caused is retried once through
 * another healthy member (the record then names the member that carried it).
 */
export async function dialRouted(resolution: Extract<Resolution, { ok: true }>, target: Target, options: DialOptions, client: string, record: ConnectionRecord): Promise<Socket> {
  const started = Date.now();
  const socket = await dialVia(resolution, target, options, client, record);
  const dns = lookupMs(socket);
  if (dns !== undefined) record.dnsMs = dns;
  record.connectMs = Date.now() - started - (dns ?? 0);
  return socket;
}

async function dialVia(resolution: Extract<Resolution, { ok: true }>, target: Target, options: DialOptions, client: string, record: ConnectionRecord): Promise<Socket> {
  const group = resolution.group;
  if (!group) return dialReporting(resolution, target, options);
  let backend = resolution.backend;
  for (let attempt = 0; ; attempt++) {
    try {
      const socket = await backend.dial(target, options);
      group.report(backend, true);
      group.opened(backend, socket);
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

/** One dial through a rule's only backend, its outcome reported as the backend's passive health. */
async function dialReporting({ backend, passive }: Extract<Resolution, { ok: true }>, target: Target, options: DialOptions): Promise<Socket> {
  if (!passive) return backend.dial(target, options);
  try {
    const socket = await backend.dial(target, options);
    passive.report(backend.name, true);
    return socket;
  } catch (error) {
    if (backendFault(error, backend.type)) passive.report(backend.name, false, (error as Error).message);
    throw error;
  }
}
