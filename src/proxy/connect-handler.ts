import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Target } from '../backends/backend.js';
import { authenticateHttp, targetText } from '../auth/http-auth.js';
import type { ConnectionRecord } from './connection-record.js';
import { parseAuthority } from './http-target.js';
import type { ProxyContext } from './proxy-context.js';
import { rawRefuser, refuseAuth, refuseDenial, refuseDialFailure, type RawRefuse } from './raw-refusal.js';
import { UNHEALTHY_REFUSAL, VIA_LOOP } from './refusals.js';
import { dialRouted } from './routed-dial.js';
import type { Resolution, Runtime } from './runtime.js';
import { endIfClientGone, relayTunnel } from './tunnel-relay.js';

const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');

/** Handles `CONNECT host:port`: routes, dials through the backend, answers 200 and relays both ways. */
export function handleConnect(ctx: ProxyContext, req: IncomingMessage, client: Socket, head: Buffer): void {
  const target = parseAuthority(req.url ?? '');
  const record = ctx.begin({
    protocol: 'connect',
    clientAddress: client.remoteAddress ?? '',
    clientPort: client.remotePort ?? 0,
    method: 'CONNECT',
    host: target?.host ?? '',
    port: target?.port ?? 0,
    userAgent: req.headers['user-agent'],
    referer: req.headers.referer,
  });
  const refuse = rawRefuser(ctx, record, client);
  if (!target) return refuse(400, 'Bad Request', 'CONNECT needs a host:port target', 'bad-request');
  const via = req.headers.via;
  if (via !== undefined && via.includes(ctx.viaToken)) {
    ctx.policy().refusedLoop(record, VIA_LOOP);
    return refuse(508, 'Loop Detected', VIA_LOOP, 'loop', 'proxy_loop_detected');
  }
  const runtime = ctx.runtime();
  const policy = ctx.policy();
  const auth = ctx.auth();
  authenticateHttp(auth, req, record, (r) => refuseAuth(refuse, r), (identity) => {
    const info = { protocol: 'connect' as const, client: record.clientAddress, user: identity?.user, host: target.host, port: target.port };
    policy.checkRequest(info, (denial) => {
      if (denial) return refuseDenial(refuse, denial);
      const resolution = runtime.resolve(target.host, record.clientAddress);
      record.rule = resolution.rule;
      if (!resolution.ok && resolution.unhealthy) return refuse(UNHEALTHY_REFUSAL.status, 'Bad Gateway', resolution.reason, UNHEALTHY_REFUSAL.reason, UNHEALTHY_REFUSAL.proxyStatus);
      if (!resolution.ok) return refuse(403, 'Forbidden', resolution.reason, 'no-route', 'destination_ip_prohibited');
      const forbidden = auth?.backendDenial(identity, resolution.backend.name, { client: record.clientAddress, protocol: 'connect', target: targetText(target.host, target.port) });
      if (forbidden) return refuseDenial(refuse, forbidden);
      ctx.routed(record, resolution.backend.name);
      const full = policy.acquireBackend(record, resolution.backend.name, info);
      if (full) return refuseDenial(refuse, full);
      const front = ctx.interceptor(target.host);
      if (front) {
        const dial = { connectTimeoutMs: runtime.config.network.timeouts.connectMs, relayOnly: true, refusePrivate: policy.refusesPrivate(record.clientAddress) };
        const established = (): void => void ((record.status = 200), client.write(ESTABLISHED));
        return front.take({ record, client, head, target, identity, established, dial: () => dialRouted(resolution, target, dial, record.clientAddress, record) });
      }
      tunnel(ctx, record, client, head, resolution, target, runtime, policy.refusesPrivate(record.clientAddress), refuse);
    });
  });
}

/** Dials the target through the backend, answers 200 and relays both ways. */
function tunnel(
  ctx: ProxyContext,
  record: ConnectionRecord,
  client: Socket,
  head: Buffer,
  resolution: Extract<Resolution, { ok: true }>,
  target: Target,
  runtime: Runtime,
  refusePrivate: boolean,
  refuse: RawRefuse,
): void {
  client.on('error', () => client.destroy());
  if (endIfClientGone(ctx, record, client, 'client-closed')) return;
  dialRouted(resolution, target, { connectTimeoutMs: runtime.config.network.timeouts.connectMs, relayOnly: true, refusePrivate }, record.clientAddress, record).then(
    (upstream) => {
      if (endIfClientGone(ctx, record, client, 'client-closed', upstream)) return;
      ctx.track(upstream, record);
      record.status = 200;
      client.write(ESTABLISHED);
      if (head.length > 0) upstream.write(head);
      relayTunnel(ctx, record, client, upstream, runtime.config.network.timeouts.idleMs, head.length);
    },
    (error: unknown) => refuseDialFailure(ctx, record, client, refuse, error),
  );
}
