import { z } from 'zod';
import { tunnelStatusSchema } from './records.js';

const healthStatus = z.enum(['healthy', 'unhealthy', 'unknown']);

/** A backend as the API and `backend list` show it (no secrets). */
export const backendViewSchema = z.strictObject({
  name: z.string(),
  /** `server`: the client role's own server. */
  type: z.enum(['direct', 'http', 'socks5', 'wireguard', 'openvpn', 'server']),
  address: z.string().nullable(),
  status: z.enum(['available', 'unavailable']),
  reason: z.string().optional(),
  connections: z.strictObject({ total: z.number(), errors: z.number() }),
  health: z.strictObject({
    status: healthStatus,
    checked: z.boolean(),
    /** Since when the status holds (ms since epoch), or null while nothing is known. */
    since: z.number().nullable(),
    latencyMs: z.number().nullable(),
    consecutiveFailures: z.number(),
    uptimePercent: z.number().nullable(),
    lastCheck: z.number().nullable(),
    reason: z.string().optional(),
    /** The last failure, from a check or live traffic. */
    lastError: z.strictObject({ at: z.number(), message: z.string() }).optional(),
    /** What live traffic last said of the upstream credentials. */
    credentials: z.enum(['accepted', 'refused']).optional(),
  }),
});
/** A backend view. */
export type BackendView = z.infer<typeof backendViewSchema>;

/** `GET /api/backends/:name/health` (spec 11.5); a tunnel backend carries its tunnel's state. */
export const healthAnswerSchema = z.strictObject({
  name: z.string(),
  status: healthStatus,
  last_check: z.string().nullable(),
  latency_ms: z.number().nullable(),
  consecutive_failures: z.number(),
  uptime_percent: z.number().nullable(),
  reason: z.string().optional(),
  tunnel: tunnelStatusSchema.optional(),
});
/** A backend's health answer. */
export type HealthAnswer = z.infer<typeof healthAnswerSchema>;

/**
 * `POST /api/backends/:name/test`: the check that ran and its result; a tunnel backend adds its
 * leak self-test (source and tunnel addresses, DNS path, egress address, leaks).
 */
export const backendTestAnswerSchema = z.strictObject({
  name: z.string(),
  /** The check that ran: the backend's configured one (`hop`: the client's own server), or tcp. */
  type: z.enum(['tcp', 'http', 'ping', 'hop']),
  target: z.string(),
  ok: z.boolean(),
  latencyMs: z.number(),
  error: z.string().optional(),
  tunnel: tunnelStatusSchema.optional(),
  resolvedBy: z.string().optional(),
  localAddress: z.string().optional(),
  tunnelAddresses: z.array(z.string()).optional(),
  dns: z.array(z.strictObject({ server: z.string(), via: z.string().nullable() })).optional(),
  egress: z.strictObject({ throughTunnel: z.string().nullable(), fromHost: z.string().nullable(), url: z.string(), error: z.string().optional() }).optional(),
  leaks: z.array(z.string()).optional(),
});
/** What a backend test answers. */
export type BackendTestAnswer = z.infer<typeof backendTestAnswerSchema>;
