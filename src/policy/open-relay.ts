import type { ConfigSnapshot } from '../config/model.js';
import { isLoopback } from './cidr-set.js';
import { policySettings } from './policy-settings.js';

/** The config key that allows serving unauthenticated clients from anywhere. */
export const OPEN_RELAY_KEY = 'access_control.allow_open_relay';

/**
 * Why a snapshot would make an open proxy (a listener other hosts reach, no authentication and
 * no whitelist, without the explicit opt-in), or null when it would not.
 */
export function openRelayProblem(snapshot: ConfigSnapshot): string | null {
  const exposed = snapshot.listeners.filter((l) => l.host !== 'localhost' && !isLoopback(l.host));
  if (exposed.length === 0) return null;
  const auth = snapshot.auth.mode;
  if (auth !== 'none') return null;
  const { whitelist, allow_open_relay: allowed } = policySettings(snapshot).accessControl;
  if (whitelist.length > 0 || allowed) return null;
  const where = [...new Set(exposed.map((l) => l.host))].join(', ');
  const section = snapshot.role === 'server' ? 'server' : 'client';
  return (
    `refusing to start an open proxy: ${section}.bind_address ${where} is reachable from other hosts, ` +
    `${snapshot.role === 'server' ? 'server.auth.mode is "none"' : 'the client has no authentication'} and access_control.whitelist is empty; ` +
    `list the allowed client networks in access_control.whitelist${snapshot.role === 'server' ? ', enable server.auth' : ''}, bind to 127.0.0.1, ` +
    `or set ${OPEN_RELAY_KEY}: true to serve everyone on purpose`
  );
}
