import type { ConfigSnapshot } from '../config/model.js';
import type { AccessControlSettings, AccessLogSettings, RateLimitingSettings, StateSettings } from '../config/sections.js';

export type { AccessControlSettings, AccessLogSettings, RateLimitingSettings, StateSettings };

/** The traffic-policy sections of a snapshot. */
export interface PolicySettings {
  accessControl: AccessControlSettings;
  rateLimiting: RateLimitingSettings;
  accessLog: AccessLogSettings;
  state: StateSettings;
}

/** The policy sections of a snapshot, as the load normalised them (config/sections.ts). */
export function policySettings(snapshot: ConfigSnapshot): PolicySettings {
  return { accessControl: snapshot.accessControl, rateLimiting: snapshot.rateLimiting, accessLog: snapshot.accessLog, state: snapshot.state };
}
