import type { z } from 'zod';
import type { ConfigSnapshot } from '../config/model.js';
import { accessControlSchema, accessLogSchema, rateLimitingSchema, stateSchema } from '../config/schema.js';

/** `access_control:` with defaults applied. */
export type AccessControlSettings = z.infer<typeof accessControlSchema>;
/** `rate_limiting:` with defaults applied. */
export type RateLimitingSettings = z.infer<typeof rateLimitingSchema>;
/** `access_log:` with defaults applied. */
export type AccessLogSettings = z.infer<typeof accessLogSchema>;
/** `state:` with defaults applied. */
export type StateSettings = z.infer<typeof stateSchema>;

/** The traffic-policy sections of a snapshot. */
export interface PolicySettings {
  accessControl: AccessControlSettings;
  rateLimiting: RateLimitingSettings;
  accessLog: AccessLogSettings;
  state: StateSettings;
}

/**
 * Reads the policy sections from a snapshot's validated document; an absent section gets its
 * defaults (so a snapshot built by hand is as strict as an empty file).
 */
export function policySettings(snapshot: ConfigSnapshot): PolicySettings {
  const raw = snapshot.raw;
  return {
    accessControl: accessControlSchema.parse(raw.access_control ?? {}),
    rateLimiting: rateLimitingSchema.parse(raw.rate_limiting ?? {}),
    accessLog: accessLogSchema.parse(raw.access_log ?? {}),
    state: stateSchema.parse(raw.state ?? {}),
  };
}
