import type { ConfigSnapshot } from '../config/model.js';
import { policySettings } from './policy-settings.js';

/**
 * Whether a snapshot sets a limit that is exact over several engine processes only if every
 * connection of a client passes one door: max_mbps_per_ip. With one the clustered engine's
 * primary accepts every connection and hands it to the worker its client hashes to; without one
 * the workers accept themselves, which costs nothing per connection and lets one busy client use
 * every core. max_connections_per_ip, the per_ip request rate and failed-login lockouts need
 * none: the workers lease them from the primary (SlotPool, LeasedStore, AttemptPool).
 */
export function needsOneDoor(snapshot: ConfigSnapshot): boolean {
  const { rateLimiting } = policySettings(snapshot);
  return rateLimiting.enabled && rateLimiting.bandwidth?.enabled === true && rateLimiting.bandwidth.max_mbps_per_ip > 0;
}
