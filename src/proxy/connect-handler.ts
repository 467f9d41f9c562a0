import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { DialOptions, Target } from '../backends/backend.js';
import type { AuthRefusal } from '../auth/auth-service.js';
import { authenticateHttp, targetText } from '../auth/http-auth.js';
import { rawDenial, type Denial } from '../policy/denial.js';
import type { ConnectionRecord } from './connection-record.js';
import { parseAuthority } from './http-target.js';
import type { ProxyContext } from './proxy-context.js';
import { rawHttpError, refusalFor, UNHEALTHY_REFUSAL } from './refusals.js';
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
  const refuse = (status: number, text: string, reason: string, proxyStatus: string | undefined, error: string): void => {
    record.status = status;
    record.error = error;
    client.end(rawHttpError(status, text, reason, proxyStatus));
    client.once('close', () => ctx.end(record));
    client.on('error', () => client.destroy());
  };
  if (!target) return refuse(400, 'Bad Request', 'CONNECT needs a host:port target', undefined, 'bad-request');
  const via = req.headers.via;
  if (via !== undefined && via.includes(ctx.viaToken)) return refuse(508, 'Loop Detected', 'request loops back to this proxy', 'proxy_loop_detected', 'loop');
  const runtime = ctx.runtime();
  const policy = ctx.policy();
  const auth = ctx.auth();
  const refuseAuth = (r: AuthRefusal): void => {
    record.status = r.status;
    record.error = r.error;
    client.end(rawHttpError(r.status, r.statusText, r.reason, undefined, r.headers));
    client.once('close', () => ctx.end(record));
    client.on('error', () => client.destroy());
  };
  authenticateHttp(auth, req, record, refuseAuth, (identity) => {
    const info = { protocol: 'connect' as const, client: record.clientAddress, user: identity?.user, host: target.host, port: target.port };
    policy.checkRequest(info, (denial) => {
      if (denial) return refuseDenied(ctx, record, client, denial);
      const resolution = runtime.resolve(target.host, record.clientAddress);
      record.rule = resolution.rule;
      if (!resolution.ok && resolution.unhealthy) return refuse(UNHEALTHY_REFUSAL.status, 'Bad Gateway', resolution.reason, UNHEALTHY_REFUSAL.proxyStatus, UNHEALTHY_REFUSAL.reason);
      if (!resolution.ok) return refuse(403, 'Forbidden', resolution.reason, 'destination_ip_prohibited', 'no-route');
      const forbidden = auth?.backendDenial(identity, resolution.backend.name, { client: record.clientAddress, protocol: 'connect', target: targetText(target.host, target.port) });
      if (forbidden) return refuseDenied(ctx, record, client, forbidden);
      ctx.routed(record, resolution.backend.name);
      const full = policy.acquireBackend(record, resolution.backend.name, info);
      if (full) return refuseDenied(ctx, record, client, full);
      tunnel(ctx, record, client, head, resolution, target, runtime, policy.dialCheck(info), refuse);
    });
  });
}

/** Answers a request the traffic policy refused and ends its record once the client is gone. */
function refuseDenied(ctx: ProxyContext, record: ConnectionRecord, client: Socket, denial: Denial): void {
  record.status = denial.status;
  record.error = denial.error;
  if (client.destroyed) return ctx.end(record);
  client.once('close', () => ctx.end(record));
  client.on('error', () => client.destroy());
  client.end(rawDenial(denial));
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
  check: DialOptions['check'],
  refuse: (status: number, text: string, reason: string, proxyStatus: string | undefined, error: string) => void,
): void {
  client.on('error', () => client.destroy());
  if (client.destroyed) {
    record.error = 'client-closed';
    return ctx.end(record);
  }
  dialRouted(resolution, target, { connectTimeoutMs: runtime.config.network.timeouts.connectMs, relayOnly: true, check }, record.clientAddress, record).then(
    (upstream) => {
      if (endIfClientGone(ctx, record, client, 'client-closed', upstream)) return;
      ctx.track(upstream);
      record.status = 200;
      client.write(ESTABLISHED);
      if (head.length > 0) upstream.write(head);
      relayTunnel(ctx, record, client, upstream, runtime.config.network.timeouts.idleMs, head.length);
    },
    (error: unknown) => {
      const refusal = refusalFor(error);
      if (endIfClientGone(ctx, record, client, refusal.reason)) return;
      refuse(refusal.status, refusal.status === 504 ? 'Gateway Timeout' : refusal.status === 403 ? 'Forbidden' : 'Bad Gateway', refusal.message, refusal.proxyStatus, refusal.reason);
    },
  );
}
