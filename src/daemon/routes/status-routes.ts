import { authSettings } from '../../auth/auth-settings.js';
import { mergeClientViews } from '../../auth/client-registry.js';
import type { ControlRouter } from '../../control/control-router.js';
import type { LiveEvent } from '../../control/event-hub.js';
import { matchesFilter } from '../../protocol/connection-filter.js';
import { maskSecrets } from '../views.js';
import type { DaemonContext } from './context.js';

/** What a viewer's event stream carries: everything but the debugger's records (headers and bodies). */
const VIEWER_EVENTS: ReadonlySet<LiveEvent['type']> = new Set(['connection:start', 'connection:end', 'throughput', 'reload', 'warning', 'limit:hit', 'backend:health', 'tunnel']);

/** Status, counters, the live stream, the config, reload and stop. */
export function bindStatusRoutes(router: ControlRouter, daemon: DaemonContext): void {
  router
    .serve('metrics', async (_req, res) => {
      const { contentType, text } = await daemon.exposition();
      res.writeHead(200, { 'content-type': contentType });
      res.end(text);
    })
    .serve('events', ({ caller, query }, res) => {
      const asked = query.types === undefined ? null : new Set(query.types.split(',').map((t) => t.trim()) as LiveEvent['type'][]);
      // A viewer sees no debugger records (headers, bodies) and no audit trail, whatever it asks for.
      const allowed = caller.role === 'viewer' ? [...(asked ?? VIEWER_EVENTS)].filter((t) => VIEWER_EVENTS.has(t)) : asked;
      daemon.hub.subscribe(res, allowed === null ? null : new Set(allowed));
    })
    .serve('status', () => daemon.status())
    .serve('stats', async () => ({
      ...(await daemon.engine.stats()),
      reloads: daemon.reloadCounts,
      limits: daemon.snapshot.network.limits,
      limitHits: daemon.policy.limitHits(),
    }))
    .serve('clients', async () => {
      const clients = mergeClientViews(await daemon.engine.authClients()).map((v) => ({ ...v, firstSeen: new Date(v.firstSeen).toISOString(), lastSeen: new Date(v.lastSeen).toISOString() }));
      // Connected now apart from seen before; `clients` keeps every one for existing readers.
      return { auth: authSettings(daemon.snapshot).mode, connected: clients.filter((v) => v.connections > 0), seen: clients.filter((v) => v.connections === 0), clients };
    })
    .serve('config', () => ({ source: daemon.snapshot.source, version: daemon.snapshot.version, warnings: daemon.snapshot.warnings, config: maskSecrets(daemon.snapshot.raw) }))
    .serve('connections', async ({ query }) => ({ connections: (await daemon.engine.openConnections()).filter((record) => matchesFilter(record, query)) }))
    .serve('connectionsClose', async ({ body }) => ({ closed: await daemon.engine.closeConnections(body) }))
    .serve('reload', ({ query }) => daemon.reload(query.dry_run === '1' || query.dry_run === 'true'))
    .serve('stop', ({ body }) => {
      setImmediate(() => void daemon.stop(body.force));
      const { acceptGraceMs, drainTimeoutMs } = daemon.snapshot.shutdown;
      return { stopping: true, pid: process.pid, acceptGraceMs: body.force ? 0 : acceptGraceMs, drainTimeoutMs: body.force ? 0 : drainTimeoutMs } as const;
    });
}
