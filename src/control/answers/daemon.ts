import { z } from 'zod';
import { backendViewSchema } from './backends.js';
import { tunnelStatusSchema } from './records.js';
import { configSourceStatusSchema } from './config-source.js';

/** The SOCKS5 UDP relay since start, open associations included (summed over engine processes). */
const udpCounts = z.strictObject({
  associationsActive: z.number(),
  associationsTotal: z.number(),
  flowsActive: z.number(),
  datagramsIn: z.number(),
  datagramsOut: z.number(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  dropped: z.partialRecord(z.enum(['truncated', 'fragmented', 'address-type', 'stranger', 'refused', 'pending', 'bandwidth']), z.number()),
});

/** One engine process's file descriptors (the one nearest its limit) and refusals for want of them. */
const descriptors = z.strictObject({ open: z.number(), limit: z.number(), exhausted: z.strictObject({ accept: z.number(), dial: z.number() }) });

/** The client role's connection to its server (`status`'s server line). */
export const serverLinkSchema = z.strictObject({
  address: z.string(),
  protocol: z.enum(['http', 'https', 'socks5']),
  state: z.enum(['reachable', 'unreachable', 'refused', 'unknown']),
  since: z.string().nullable(),
  latencyMs: z.number().nullable(),
  lastError: z.strictObject({ at: z.string(), message: z.string() }).nullable(),
  credentials: z.enum(['none', 'accepted', 'refused', 'unverified']),
});
/** The client's server link. */
export type ServerLink = z.infer<typeof serverLinkSchema>;

const listener = z.strictObject({ kind: z.enum(['http', 'socks5']), host: z.string(), port: z.number(), tls: z.boolean() });

/** `GET /api/status`: what the running daemon is doing. */
export const statusAnswerSchema = z.strictObject({
  role: z.enum(['server', 'client']),
  pid: z.number(),
  uptimeSeconds: z.number(),
  startedAt: z.string(),
  config: z.strictObject({ source: z.string().nullable(), version: z.string(), loadedAt: z.string(), warnings: z.array(z.string()), remote: configSourceStatusSchema.optional() }),
  listeners: z.array(listener),
  metrics: z.strictObject({ host: z.string(), port: z.number(), endpoint: z.string() }).nullable(),
  management: z.strictObject({ host: z.string(), port: z.number(), tls: z.boolean() }).nullable(),
  debug: z.strictObject({ enabled: z.boolean() }),
  workers: z.number(),
  socket: z.string(),
  connections: z.strictObject({ active: z.number(), total: z.number() }),
  backends: z.array(backendViewSchema),
  /** The client role only: its server link (null without a server). */
  server: serverLinkSchema.nullable().optional(),
  tunnels: z.array(tunnelStatusSchema),
  reloads: z.strictObject({ total: z.number(), errors: z.number() }),
  descriptors,
  udp: udpCounts,
});
/** The daemon's status. */
export type StatusAnswer = z.infer<typeof statusAnswerSchema>;

/** `GET /api/stats`: the engine's counters, reloads, connection limits and refusals by scope. */
export const statsAnswerSchema = z.strictObject({
  startedAt: z.number(),
  connectionsActive: z.number(),
  connectionsTotal: z.number(),
  backends: z.record(z.string(), z.strictObject({ active: z.number(), total: z.number(), errors: z.number() })),
  busiestClients: z.array(z.strictObject({ client: z.string(), active: z.number() })),
  descriptors,
  udp: udpCounts,
  reloads: z.strictObject({ total: z.number(), errors: z.number() }),
  limits: z.strictObject({ maxConnections: z.number(), maxConnectionsPerIp: z.number(), maxConnectionsPerBackend: z.number() }),
  limitHits: z.record(z.string(), z.number()),
});
/** The daemon's counters. */
export type StatsAnswer = z.infer<typeof statsAnswerSchema>;

const clientView = z.strictObject({
  user: z.string(),
  groups: z.array(z.string()),
  addresses: z.array(z.string()),
  requests: z.number(),
  connections: z.number(),
  firstSeen: z.string(),
  lastSeen: z.string(),
});

/** `GET /api/clients`: authenticated users, connected now and seen before (`clients`: all of them). */
export const clientsAnswerSchema = z.strictObject({ auth: z.string(), connected: z.array(clientView), seen: z.array(clientView), clients: z.array(clientView) });

/** `GET /api/config`: the running config as the file has it, secrets masked. */
export const configAnswerSchema = z.strictObject({ source: z.string().nullable(), version: z.string(), warnings: z.array(z.string()), config: z.record(z.string(), z.unknown()) });
/** The running config. */
export type ConfigAnswer = z.infer<typeof configAnswerSchema>;

const configDiff = z.strictObject({
  rulesAdded: z.array(z.string()),
  rulesRemoved: z.array(z.string()),
  rulesChanged: z.array(z.string()),
  rulesReordered: z.boolean(),
  backendsAdded: z.array(z.string()),
  backendsRemoved: z.array(z.string()),
  backendsChanged: z.array(z.string()),
  restartRequired: z.array(z.string()),
  settingsChanged: z.array(z.string()),
});

/** `POST /api/config/reload` (and every edit): what the reload did, or for a dry run would do. */
export const reloadAnswerSchema = z.strictObject({
  ok: z.boolean(),
  dryRun: z.boolean(),
  version: z.string(),
  previousVersion: z.string(),
  diff: configDiff,
  restartRequired: z.array(z.string()),
  warnings: z.array(z.string()),
});
/** What a reload did. */
export type ReloadAnswer = z.infer<typeof reloadAnswerSchema>;

/** Every edit of rules, backends and users: the reload it caused, and for rule edits where the rule now stands. */
export const editAnswerSchema = reloadAnswerSchema.extend({
  placement: z.strictObject({ position: z.number(), count: z.number(), beforeCatchAll: z.string().nullable() }).nullable().optional(),
});
/** What an edit did. */
export type EditAnswer = z.infer<typeof editAnswerSchema>;

/** `POST /api/stop`. */
export const stopAnswerSchema = z.strictObject({ stopping: z.literal(true), pid: z.number(), acceptGraceMs: z.number(), drainTimeoutMs: z.number() });
