import type { Backend } from '../backends/backend.js';
import type { Runtime } from '../proxy/runtime.js';

/** Where a UDP destination goes: a backend that carries UDP, or why none does. */
export type UdpRoute = { ok: true; rule: string; backend: Backend & Required<Pick<Backend, 'openUdp'>> } | { ok: false; rule?: string; error: string; reason: string };

/**
 * Routes one UDP destination as TCP would be (first matching rule, its balancing and health);
 * when that rule's backend cannot carry UDP (an HTTP upstream) the destination is refused with
 * the reason, unless the rule says `udp: skip`: then the next matching rule is tried.
 */
export function routeUdp(runtime: Runtime, host: string, client: string): UdpRoute {
  const first = runtime.resolve(host, client);
  if (!first.ok) return { ok: false, rule: first.rule, error: first.unhealthy ? 'unavailable' : 'no-route', reason: first.reason };
  if (first.backend.openUdp) return { ok: true, rule: first.rule, backend: first.backend as UdpRouteBackend };
  const skipped: string[] = [];
  for (const hit of runtime.router.explain(host)) {
    const rule = runtime.config.rules[hit.index];
    const resolution = runtime.resolveAt(hit.index, client);
    if (resolution.ok && resolution.backend.openUdp) return { ok: true, rule: resolution.rule, backend: resolution.backend as UdpRouteBackend };
    const why = resolution.ok ? `backend "${resolution.backend.name}" (${resolution.backend.type}) cannot carry UDP` : resolution.reason;
    if (!rule.udpSkip) {
      const tried = skipped.length > 0 ? ` (after skipping ${skipped.join(', ')})` : '';
      return { ok: false, rule: rule.name, error: resolution.ok ? 'udp-unsupported' : 'no-route', reason: `rule "${rule.name}": ${why}${tried}; "udp: skip" on the rule lets UDP go on to the next matching rule` };
    }
    skipped.push(`rule "${rule.name}"`);
  }
  return { ok: false, error: 'udp-unsupported', reason: `no matching rule has a backend that carries UDP (skipped ${skipped.join(', ')})` };
}

type UdpRouteBackend = Backend & Required<Pick<Backend, 'openUdp'>>;
