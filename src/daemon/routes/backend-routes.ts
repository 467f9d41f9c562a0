import type { ControlRouter } from '../../control/control-router.js';
import { addBackend, removeBackend } from '../../config/editor.js';
import { ProxyError } from '../../errors.js';
import { parseAuthority } from '../../proxy/http-target.js';
import { healthAnswer } from '../views.js';
import type { DaemonContext } from './context.js';

/** Backends: list, add, remove, test, health. */
export function bindBackendRoutes(router: ControlRouter, daemon: DaemonContext): void {
  router
    .serve('backends', async () => ({ backends: daemon.backendViews(await daemon.engine.stats()) }))
    .serve('backendAdd', ({ body }) => daemon.edit(addBackend(body)))
    .serve('backendRemove', ({ params }) => daemon.edit(removeBackend(params.name)))
    .serve('backendTest', async ({ params, body }) => {
      const { target, ip_url: ipUrl } = body;
      const parsed = target === undefined ? undefined : parseAuthority(target, 80);
      if (target !== undefined && !parsed) throw new ProxyError('BAD_REQUEST', `"${target}" is not host:port`);
      const spec = daemon.snapshot.backends.find((b) => b.name === params.name);
      if (!spec) throw new ProxyError('NOT_FOUND', `no backend named "${params.name}"`);
      const tunnel = daemon.tunnels.status(params.name);
      if (tunnel && tunnel.state === 'up' && 'tunnel' in spec && spec.tunnel) {
        const to = parsed ?? { host: 'example.com', port: 80 };
        // Loaded when asked: it brings an HTTP client (undici) the daemon needs for nothing else.
        const { testTunnel } = await import('../../tunnels/tunnel-test.js');
        const report = await testTunnel(tunnel, spec.tunnel.statusFile, to, daemon.snapshot.network, ipUrl);
        return { name: params.name, type: 'tcp' as const, target: `${to.host}:${to.port}`, tunnel, ...report };
      }
      return { name: params.name, ...(await daemon.engine.testBackend(params.name, parsed ?? undefined)) };
    })
    .serve('backendHealth', ({ params }) => {
      const health = daemon.engine.health()[params.name];
      if (!health) throw new ProxyError('NOT_FOUND', `no backend named "${params.name}"`);
      const tunnel = daemon.tunnels.status(params.name);
      const problem = daemon.tunnelProblem(params.name);
      // A tunnel that is not up cannot carry traffic, whatever its last probe said.
      if (tunnel && problem) return { ...healthAnswer({ ...health, status: 'unhealthy', reason: problem }), tunnel };
      return tunnel ? { ...healthAnswer(health), tunnel } : healthAnswer(health);
    });
}
