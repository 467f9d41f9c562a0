import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { parseAuthority } from './http-target.js';
import type { ProxyContext } from './proxy-context.js';
import { rawHttpError, refusalFor } from './refusals.js';
import { relay } from './relay.js';

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
  const resolution = runtime.resolve(target.host);
  record.rule = resolution.rule;
  if (!resolution.ok) return refuse(403, 'Forbidden', resolution.reason, 'destination_ip_prohibited', 'no-route');
  ctx.routed(record, resolution.backend.name);

  client.on('error', () => client.destroy());
  resolution.backend.dial(target, { connectTimeoutMs: runtime.config.network.timeouts.connectMs, relayOnly: true }).then(
    (upstream) => {
      if (client.destroyed) {
        upstream.destroy();
        record.error = 'client-closed';
        ctx.end(record);
        return;
      }
      ctx.track(upstream);
      record.status = 200;
      client.write(ESTABLISHED);
      if (head.length > 0) upstream.write(head);
      relay(client, upstream, runtime.config.network.timeouts.idleMs, (result) => {
        record.bytesIn = result.bytesIn + head.length;
        record.bytesOut = result.bytesOut;
        record.error = result.error;
        ctx.end(record);
      });
    },
    (error: unknown) => {
      const refusal = refusalFor(error);
      if (client.destroyed) {
        record.error = refusal.reason;
        ctx.end(record);
        return;
      }
      refuse(refusal.status, refusal.status === 504 ? 'Gateway Timeout' : refusal.status === 403 ? 'Forbidden' : 'Bad Gateway', refusal.message, refusal.proxyStatus, refusal.reason);
    },
  );
}
