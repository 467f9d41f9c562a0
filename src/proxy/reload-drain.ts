import type { BackendSpec, ConfigSnapshot } from '../config/model.js';

/**
 * Backends a reload takes away: removed, or redefined so that traffic would go elsewhere or
 * authenticate differently. A changed health check alone does not count: the route is the same.
 */
export function retiredBackends(previous: ConfigSnapshot, next: ConfigSnapshot): Set<string> {
  const route = ({ healthCheck, ...rest }: BackendSpec): string => JSON.stringify(rest);
  const kept = new Map(next.backends.map((b) => [b.name, route(b)]));
  return new Set(previous.backends.filter((b) => kept.get(b.name) !== route(b)).map((b) => b.name));
}
