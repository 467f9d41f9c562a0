import type { ControlRouter } from '../../control/control-router.js';
import { ProxyError } from '../../errors.js';
import type { DaemonContext } from './context.js';

/** The traffic debugger: switch, records, live records, counts. */
export function bindDebugRoutes(router: ControlRouter, daemon: DaemonContext): void {
  router
    .serve('debugStatus', () => ({ enabled: daemon.traffic.enabled, settings: daemon.traffic.settings }))
    .serve('debugEnable', async () => {
      await daemon.traffic.enable();
      return { enabled: true };
    })
    .serve('debugDisable', async () => {
      await daemon.traffic.disable();
      return { enabled: false };
    })
    .serve('debugTraffic', async ({ query }) => {
      const limit = Math.min(Number(query.limit ?? 100) || 100, 100_000);
      return { enabled: daemon.traffic.enabled, records: await daemon.traffic.list(limit, query.filter) };
    })
    .serve('debugTrafficStream', (_req, res) => daemon.hub.subscribe(res, new Set(['traffic'])))
    .serve('debugRecord', async ({ params }) => {
      const record = await daemon.traffic.get(params.id);
      if (!record) throw new ProxyError('NOT_FOUND', `no recorded request with id "${params.id}"`);
      return record;
    })
    .serve('debugClear', async () => {
      await daemon.traffic.clear();
      return { cleared: true } as const;
    })
    .serve('debugStats', () => daemon.traffic.summary());
}
