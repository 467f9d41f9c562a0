import type { z } from 'zod';
import type { ConfigSnapshot } from '../config/model.js';
import type { Role } from '../role.js';
import { accessControlSchema, accessLogSchema, rateLimitingSchema, stateSchema } from '../config/schema.js';

/** `access_control:` with defaults applied (trusted_clients: the role's default when absent). */
export type AccessControlSettings = z.infer<typeof accessControlSchema> & { trusted_clients: string[] };
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
 * Who `access_control.trusted_clients` lists when the file does not say. A server trusts no one:
 * a TLS terminator or SSH forward on its own host must not make every user behind it trusted.
 * A client listens on loopback for its own user, who can reach this machine's ports anyway.
 */
export function trustedClientsDefault(role: Role): string[] {
  return role === 'server' ? [] : ['127.0.0.0/8', '::1'];
}

/**
 * Reads the policy sections from a snapshot's validated document; an absent section gets its
 * defaults (so a snapshot built by hand is as strict as an empty file).
 */
export function policySettings(snapshot: ConfigSnapshot): PolicySettings {
  const raw = snapshot.raw;
  return {
    accessControl: accessControlOf(snapshot.role, raw.access_control),
    rateLimiting: rateLimitingSchema.parse(raw.rate_limiting ?? {}),
    accessLog: accessLogSchema.parse(raw.access_log ?? {}),
    state: stateSchema.parse(raw.state ?? {}),
  };
}

function accessControlOf(role: Role, section: unknown): AccessControlSettings {
  const parsed = accessControlSchema.parse(section ?? {});
  return { ...parsed, trusted_clients: parsed.trusted_clients ?? trustedClientsDefault(role) };
}
