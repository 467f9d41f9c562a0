import { z } from 'zod';
import { parseDuration } from './value-parsers.js';
import { duration } from './values.js';

/** Safety caps that apply when the file sets none. */
export const CONNECTION_LIMIT_DEFAULTS = { maxConnections: 10_000, maxConnectionsPerIp: 256 } as const;

/** TCP keepalive's idle time: whole seconds to the kernel, which takes 1 to 32767 (outside that it refuses it, and the system default would apply without a word). */
const keepaliveInterval = duration.refine((v) => {
  const ms = parseDuration(v);
  return ms === null || (ms >= 1000 && ms <= 32_767_000);
}, { error: (issue) => `"${String(issue.input)}" is out of range: TCP keepalive takes 1s to 32767s` });

/** `network:` address families, timeouts, keepalive, connection limits and header limits. */
export const networkSchema = z.strictObject({
  ipv6: z.strictObject({ enabled: z.boolean().default(true), prefer_ipv6: z.boolean().default(false) }).prefault({}),
  timeouts: z
    .strictObject({ connect: duration.default('10s'), read: duration.default('30s'), write: duration.default('30s'), idle: duration.default('60s') })
    .prefault({}),
  keepalive: z
    .strictObject({
      enabled: z.boolean().default(true),
      interval: keepaliveInterval.default('30s'),
      max_idle_conns: z.number().int().min(0).default(100),
      max_idle_time: duration.default('90s'),
    })
    .prefault({}),
  limits: z
    .strictObject({
      max_connections: z.number().int().min(1).default(CONNECTION_LIMIT_DEFAULTS.maxConnections),
      // 0 = no limit. One browser opens dozens of connections and a whole office may sit behind one
      // address, so the per-IP default is generous; a per-backend cap is a choice, never a default.
      max_connections_per_ip: z.number().int().min(0).default(CONNECTION_LIMIT_DEFAULTS.maxConnectionsPerIp),
      max_connections_per_backend: z.number().int().min(0).default(0),
    })
    .prefault({}),
  /** Largest request (and response) head in bytes, on every listener; above it a request gets 431. */
  max_header_size: z.number().int().min(1024, 'expected at least 1024 bytes').max(1048576, 'expected at most 1048576 bytes (1 MiB)').default(65536),
  /** What happens to X-Forwarded-For and Forwarded on plain HTTP and WebSocket requests (default: what the client sent is removed, nothing added). */
  forwarded_for: z.enum(['off', 'append', 'replace', 'delete']).default('delete'),
});
