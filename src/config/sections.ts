import type { z } from 'zod';
import type { Role } from '../role.js';
import { BUILT_IN_CHECK_DEFAULTS, type HealthCheckDefaults } from './check-defaults.js';
import { accessControlSchema, accessLogSchema, authSchema, rateLimitingSchema, stateSchema } from './schema.js';

/** `server.auth:` with defaults applied. */
export type AuthSettings = z.infer<typeof authSchema>;
/** `access_control:` with defaults applied (trusted_clients: the role's default when absent). */
export type AccessControlSettings = z.infer<typeof accessControlSchema> & { trusted_clients: string[] };
/** `rate_limiting:` with defaults applied. */
export type RateLimitingSettings = z.infer<typeof rateLimitingSchema>;
/** `access_log:` with defaults applied. */
export type AccessLogSettings = z.infer<typeof accessLogSchema>;
/** `state:` with defaults applied. */
export type StateSettings = z.infer<typeof stateSchema>;

/** The sections features read at run time, each with its defaults applied, normalised once per load. */
export interface RuntimeSections {
  /** `server.auth:` (mode "none" for the client role). */
  auth: AuthSettings;
  accessControl: AccessControlSettings;
  rateLimiting: RateLimitingSettings;
  accessLog: AccessLogSettings;
  state: StateSettings;
  /** `health_checks.defaults` over the built-in ones, or null when there is no global `health_checks:` section. */
  healthChecks: HealthCheckDefaults | null;
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
 * Normalises the run-time sections of a validated document (at load, and again once secret
 * references are resolved). An absent section gets its defaults, so a document built by hand is
 * as strict as an empty file.
 */
export function runtimeSections(role: Role, raw: Record<string, unknown>): RuntimeSections {
  const auth = role === 'server' ? (raw.server as { auth?: unknown } | undefined)?.auth : undefined;
  const accessControl = accessControlSchema.parse(raw.access_control ?? {});
  const checks = raw.health_checks as { defaults?: Partial<HealthCheckDefaults> } | undefined;
  return {
    auth: authSchema.parse(auth ?? {}),
    accessControl: { ...accessControl, trusted_clients: accessControl.trusted_clients ?? trustedClientsDefault(role) },
    rateLimiting: rateLimitingSchema.parse(raw.rate_limiting ?? {}),
    accessLog: accessLogSchema.parse(raw.access_log ?? {}),
    state: stateSchema.parse(raw.state ?? {}),
    healthChecks: checks === undefined ? null : { ...BUILT_IN_CHECK_DEFAULTS, ...checks.defaults },
  };
}
