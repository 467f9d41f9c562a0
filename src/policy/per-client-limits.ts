import { authSettings } from '../auth/auth-settings.js';
import type { ConfigSnapshot } from '../config/model.js';
import { CONNECTION_LIMIT_DEFAULTS } from '../config/schema.js';
import { policySettings } from './policy-settings.js';

/**
 * Whether a snapshot sets a limit counted per client address: the per_ip request rate,
 * max_connections_per_ip (other than its default safety cap), max_mbps_per_ip, or
 * failed-login lockouts (any auth mode). With several engine processes such a limit is exact
 * only while every connection of one client goes to the same process, which is what the
 * clustered engine then does; without one it spreads connections evenly, so one busy client
 * still uses every core.
 */
export function setsPerClientLimits(snapshot: ConfigSnapshot): boolean {
  const { rateLimiting } = policySettings(snapshot);
  const rates = rateLimiting.enabled && rateLimiting.per_ip !== undefined;
  const bandwidth = rateLimiting.enabled && rateLimiting.bandwidth?.enabled === true && rateLimiting.bandwidth.max_mbps_per_ip > 0;
  const perIp = snapshot.network.limits.maxConnectionsPerIp;
  const connections = perIp > 0 && perIp !== CONNECTION_LIMIT_DEFAULTS.maxConnectionsPerIp;
  return rates || bandwidth || connections || authSettings(snapshot).mode !== 'none';
}
