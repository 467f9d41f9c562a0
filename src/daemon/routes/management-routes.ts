import type { ControlRouter } from '../../control/control-router.js';
import { ProxyError } from '../../errors.js';
import type { DaemonContext } from './context.js';

/** Lines `audit tail` shows unless told. */
const DEFAULT_LINES = 50;

/** API keys (list, add, revoke) and the audit trail. */
export function bindManagementRoutes(router: ControlRouter, daemon: DaemonContext): void {
  const { keys, audit } = daemon.management;
  router
    .serve('keys', () => ({ keys: keys.list() }))
    .serve('keyAdd', ({ body }) => {
      const made = keys.add(body.role, body.expires === undefined ? null : Date.parse(body.expires));
      return { id: made.id, role: made.view.role, secret: made.secret, expires: made.view.expires };
    })
    .serve('keyRevoke', ({ params }) => {
      if (!keys.revoke(params.id)) throw new ProxyError('NOT_FOUND', `no API key with id "${params.id}"`);
      return { id: params.id, revoked: true } as const;
    })
    .serve('audit', ({ query }) => ({ file: audit.file, entries: audit.tail(Math.min(Number(query.lines ?? DEFAULT_LINES), 10_000)) }));
}
