import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { parseAuthority } from './http-target.js';
import type { ProxyContext } from './proxy-context.js';
import { rawHttpError, refusalFor, UNHEALTHY_REFUSAL } from './refusals.js';
import { dialRouted } from './routed-dial.js';
import { relay } from './relay.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

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
  const resolution = runtime.resolve(target.host, record.clientAddress);
  record.rule = resolution.rule;
  if (!resolution.ok && resolution.unhealthy) return refuse(UNHEALTHY_REFUSAL.status, 'Bad Gateway', resolution.reason, UNHEALTHY_REFUSAL.proxyStatus, UNHEALTHY_REFUSAL.reason);
  if (!resolution.ok) return refuse(403, 'Forbidden', resolution.reason, 'destination_ip_prohibited', 'no-route');
  record.backend = resolution.backend.name;

  let clientGone = false;
  const onEarlyClose = (): void => {
    clientGone = true;
  };
  client.once('close', onEarlyClose);
  client.on('error', () => client.destroy());
  dialRouted(resolution, target, { connectTimeoutMs: runtime.config.network.timeouts.connectMs, relayOnly: true }, record.clientAddress, record).then(
    (upstream) => {
      client.removeListener('close', onEarlyClose);
      if (clientGone) {
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
      client.removeListener('close', onEarlyClose);
      const refusal = refusalFor(error);
      if (clientGone) {
        record.error = refusal.reason;
        ctx.end(record);
        return;
      }
      refuse(refusal.status, refusal.status === 504 ? 'Gateway Timeout' : refusal.status === 403 ? 'Forbidden' : 'Bad Gateway', refusal.message, refusal.proxyStatus, refusal.reason);
    },
  );
}
