import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { originTls } from '../backends/origin-trust.js';
import { authority } from '../backends/http-connect.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { refusal } from '../protocol/refusal.js';
import { admit } from './admission/admit.js';
import { SocketRequest } from './admission/socket-request.js';
import { answerRaw, refuseDialFailure } from './admission/answers.js';
import { badTargetReason, parseAbsoluteTarget, type HttpTarget } from './http-target.js';
import { addForwarded, FORWARDED_FIELDS } from './forwarded-for.js';
import type { ProxyContext } from './proxy-context.js';
import { dialRouted } from './routed-dial.js';
import { endIfClientGone, relayTunnel } from './tunnel-relay.js';
import { clientAddress, clientPort } from '../protocol/client-address.js';

const DROP = new Set(['proxy-connection', 'proxy-authorization', 'keep-alive', 'host']);
const DROP_WITH_FORWARDED = new Set([...DROP, ...FORWARDED_FIELDS]);

/**
 * Passes an `Upgrade` request (WebSocket) through: dials the origin through the routed backend,
 * sends the request in origin form and, once the origin answers 101, relays raw bytes both ways.
 * If the origin declines, its answer is passed on and the client connection is closed after it,
 * so no later request on that connection can bypass routing.
 */
export function handleUpgrade(ctx: ProxyContext, req: IncomingMessage, client: Socket, head: Buffer): void {
  const target = parseAbsoluteTarget(req.url ?? '');
  const record = ctx.begin({
    protocol: 'upgrade',
    clientAddress: clientAddress(client),
    clientPort: clientPort(client),
    method: req.method ?? 'GET',
    host: target?.host ?? '',
    port: target?.port ?? 0,
    path: target?.path ?? req.url,
    userAgent: req.headers['user-agent'],
    referer: req.headers.referer,
  });
  client.on('error', () => client.destroy());
  if (!target) return answerRaw(ctx, record, client, refusal('bad-request', badTargetReason(req.url ?? '')));
  const request = new UpgradeRequest(ctx, record, req, client, head, target);
  request.authorization = req.headers['proxy-authorization'];
  request.asTunnelUser(client);
  admit(ctx, request);
}

/** An upgrade on its way through admission: dials the origin, sends the request and relays once it switched protocols. */
class UpgradeRequest extends SocketRequest {
  constructor(
    ctx: ProxyContext,
    record: ConnectionRecord,
    private readonly req: IncomingMessage,
    socket: Socket,
    private readonly head: Buffer,
    private readonly target: HttpTarget,
  ) {
    super(ctx, 'upgrade', 'upgrade', record, socket);
  }

  admitted(): void {
    dialRouted(this.resolution, this.target, this, this.client, this.record).then(
      (socket) => this.send(socket),
      (error: unknown) => refuseDialFailure(this.ctx, this, this.socket, error),
    );
  }

  private send(socket: Socket): void {
    const { ctx, req, record, target, head } = this;
    const client = this.socket;
    const upstream: Socket = target.scheme === 'https:' ? tlsConnect({ socket, servername: target.host, ALPNProtocols: ['http/1.1'], ...originTls() }) : socket;
    ctx.track(upstream, record);
    if (endIfClientGone(ctx, record, client, 'client-closed', upstream)) return;
    let lines = `${req.method} ${target.path} HTTP/1.1\r\nHost: ${authority(target)}\r\n`;
    const raw = req.rawHeaders;
    const forwardedFor = this.runtime.config.network.forwardedFor;
    const drop = forwardedFor === 'off' ? DROP : DROP_WITH_FORWARDED;
    for (let i = 0; i < raw.length; i += 2) {
      if (!drop.has(raw[i].toLowerCase())) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    const added: string[] = [];
    addForwarded(forwardedFor, raw, record.clientAddress, added);
    for (let i = 0; i < added.length; i += 2) lines += `${added[i]}: ${added[i + 1]}\r\n`;
    upstream.write(`${lines}Via: 1.1 ${ctx.viaToken}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    const idleMs = this.runtime.config.network.timeouts.idleMs;
    awaitSwitch(upstream, client, (switched, status) => {
      record.status = status;
      if (!switched) {
        record.error = 'upgrade-declined';
        return;
      }
      relayTunnel(ctx, record, client, upstream, idleMs);
    }, () => ctx.end(record));
  }
}

/**
 * Reads the origin's answer head. On 101 hands over to `onSwitch(true)` with the head already
 * written to the client; otherwise forwards the answer (up to its Content-Length when it has one)
 * and closes both sides.
 */
function awaitSwitch(upstream: Socket, client: Socket, onDecided: (switched: boolean, status: number) => void, onClosedEarly: () => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onError = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const onEarlyClose = (): void => {
    client.destroy();
    onClosedEarly();
  };
  upstream.on('error', onError);
  upstream.once('close', onEarlyClose);
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    upstream.removeListener('data', onData);
    upstream.removeListener('error', onError);
    upstream.removeListener('close', onEarlyClose);
    upstream.pause();
    const headText = buffered.subarray(0, end).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headText)?.[1] ?? 502);
    client.write(buffered);
    if (status === 101) {
      onDecided(true, status);
      return;
    }
    onDecided(false, status);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
    let remaining = length ? Number(length[1]) - (buffered.length - end - 4) : Number.POSITIVE_INFINITY;
    const finish = (): void => {
      client.end();
      upstream.destroy();
    };
    upstream.once('close', () => {
      client.end();
      onClosedEarly();
    });
    client.once('close', () => upstream.destroy());
    if (remaining <= 0) return finish();
    upstream.on('data', (data: Buffer) => {
      client.write(data);
      remaining -= data.length;
      if (remaining <= 0) finish();
    });
    upstream.resume();
  };
  upstream.on('data', onData);
  // A backend may hand the socket over paused (an upstream's CONNECT answer was read from it).
  upstream.resume();
}
