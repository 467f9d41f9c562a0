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
  }),
});

/** `POST /api/debug/enable` and `/disable`. */
export const debugSwitchAnswerSchema = z.strictObject({ enabled: z.boolean() });

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
});
/** The debugger's counts. */
export type TrafficStatsAnswer = z.infer<typeof trafficStatsAnswerSchema>;
