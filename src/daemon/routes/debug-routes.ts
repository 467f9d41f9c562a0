import { authority } from '../../backends/http-connect.js';
import type { ControlRouter } from '../../control/control-router.js';
import { replayPlan, recordedOutcome } from '../../debug/replay.js';
import { ProxyError } from '../../errors.js';
import type { DaemonContext } from './context.js';

/** The traffic debugger: switch, HTTPS interception switch, records, live records, replay, counts. */
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
    .serve('debugMitmEnable', async () => {
      await daemon.traffic.setMitm(true);
      return { mitm: true };
    })
    .serve('debugMitmDisable', async () => {
      await daemon.traffic.setMitm(false);
      return { mitm: false };
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
    .serve('debugReplay', async ({ body }) => {
      const { id, backend, force } = body;
      const record = await daemon.traffic.get(id);
      if (!record) throw new ProxyError('NOT_FOUND', `no recorded request with id "${id}"`);
      const plan = replayPlan(record, force);
      const through = backend ?? record.backend;
      if (through === undefined) throw new ProxyError('BAD_REQUEST', `record ${id} went through no backend: name one with --backend`);
      return { id, method: plan.method, url: `${plan.scheme}//${authority(plan)}${plan.path}`, original: recordedOutcome(record), replay: await daemon.engine.replay(plan, through), masked: plan.masked };
    })
    .serve('debugClear', async () => {
      await daemon.traffic.clear();
      return { cleared: true } as const;
    })
    .serve('debugStats', () => daemon.traffic.summary());
}
