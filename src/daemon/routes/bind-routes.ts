import type { ControlRouter } from '../../control/control-router.js';
import { ProxyError } from '../../errors.js';
import { bindBackendRoutes } from './backend-routes.js';
import type { DaemonContext } from './context.js';
import { bindDebugRoutes } from './debug-routes.js';
import { bindManagementRoutes } from './management-routes.js';
import { bindRuleRoutes } from './rule-routes.js';
import { bindStatusRoutes } from './status-routes.js';
import { bindUserRoutes } from './user-routes.js';

/** Binds a handler to every route of the control API; a route left without one is a programming error caught at start. */
export function bindRoutes(router: ControlRouter, daemon: DaemonContext): void {
  bindStatusRoutes(router, daemon);
  bindDebugRoutes(router, daemon);
  bindBackendRoutes(router, daemon);
  bindRuleRoutes(router, daemon);
  bindUserRoutes(router, daemon);
  bindManagementRoutes(router, daemon);
  const unbound = router.unbound();
  if (unbound.length > 0) throw new ProxyError('INTERNAL', `control routes without a handler: ${unbound.join(', ')}`);
}
