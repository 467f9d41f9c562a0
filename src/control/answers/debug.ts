import { z } from 'zod';
import { connectionRecordSchema } from './records.js';

/** `GET /api/debug/status`: whether the debugger records, and its settings. */
export const debugStatusAnswerSchema = z.strictObject({
  enabled: z.boolean(),
  settings: z.strictObject({
    enabled: z.boolean(),
    logRequests: z.boolean(),
    logResponses: z.boolean(),
    logHeaders: z.boolean(),
    bodyBytes: z.number(),
    output: z.enum(['file', 'stdout', 'both']),
    logFile: z.string(),
    maskHeaders: z.array(z.string()),
    unmask: z.array(z.string()).optional(),
    history: z.number(),
    filter: z.strictObject({ domains: z.array(z.string()), methods: z.array(z.string()), statusCodes: z.array(z.number()) }),
    mitm: z.strictObject({
      enabled: z.boolean(),
      configured: z.boolean(),
      hosts: z.array(z.string()),
      ignoreHosts: z.array(z.string()),
      passthroughAfterFailures: z.number(),
      upstreamCaFile: z.string().optional(),
      certCacheSize: z.number(),
    }),
  }),
});

/** `POST /api/debug/enable` and `/disable`. */
export const debugSwitchAnswerSchema = z.strictObject({ enabled: z.boolean() });

/** `POST /api/debug/mitm/enable` and `/disable`: whether HTTPS interception is on now. */
export const mitmSwitchAnswerSchema = z.strictObject({ mitm: z.boolean() });

/** One side of a replay: the recorded exchange or the replayed one. */
const replayOutcome = z.strictObject({
  backend: z.string().nullable(),
  status: z.number().nullable(),
  durationMs: z.number().nullable(),
  size: z.number().nullable(),
  sha256: z.string().nullable(),
  error: z.string().optional(),
});

/** `POST /api/debug/replay`: the recorded exchange and the replayed one side by side. */
export const replayAnswerSchema = z.strictObject({ id: z.string(), method: z.string(), url: z.string(), original: replayOutcome, replay: replayOutcome, masked: z.array(z.string()) });
/** What a replay answers. */
export type ReplayAnswer = z.infer<typeof replayAnswerSchema>;

/** `GET /api/debug/traffic`: the records kept, newest last. */
export const trafficAnswerSchema = z.strictObject({ enabled: z.boolean(), records: z.array(connectionRecordSchema) });

/** `POST /api/debug/clear`. */
export const clearAnswerSchema = z.strictObject({ cleared: z.literal(true) });

/** `GET /api/debug/stats`: what the debugger counted. */
export const trafficStatsAnswerSchema = z.strictObject({
  enabled: z.boolean(),
  since: z.number().nullable(),
  requests: z.number(),
  tunnels: z.number(),
  errors: z.number(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  averageDurationMs: z.number(),
  byStatusClass: z.record(z.string(), z.number()),
  byMethod: z.record(z.string(), z.number()),
  byBackend: z.record(z.string(), z.number()),
  topHosts: z.array(z.strictObject({ host: z.string(), count: z.number() })),
  kept: z.number(),
  keptBytes: z.number(),
  droppedLines: z.number(),
  /** HTTPS interception: tunnels opened up or passed through, client refusals, leaf certificates. */
  mitm: z.strictObject({
    active: z.boolean(),
    intercepted: z.number(),
    passedThrough: z.number(),
    clientRejections: z.number(),
    passthroughHosts: z.array(z.string()),
    leaves: z.strictObject({ minted: z.number(), cached: z.number(), size: z.number(), capacity: z.number(), averageMintMs: z.number() }).nullable(),
  }),
});
/** The debugger's counts. */
export type TrafficStatsAnswer = z.infer<typeof trafficStatsAnswerSchema>;
