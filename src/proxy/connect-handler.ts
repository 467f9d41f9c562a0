import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectHead } from '../protocol/connect-head.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { refusal } from '../protocol/refusal.js';
import { admit } from './admission/admit.js';
import { SocketRequest } from './admission/socket-request.js';
import { answerRaw, refuseDialFailure } from './admission/answers.js';
import { parseAuthority } from './http-target.js';
import type { ProxyContext } from './proxy-context.js';
import { dialRouted } from './routed-dial.js';
import { destroyOnError, endIfClientGone, relayTunnel } from './tunnel-relay.js';
import { clientAddress, clientPort } from '../protocol/client-address.js';

const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');

/** What a CONNECT that node:http parsed says, as the fast path reads it (parseConnectHead). */
export function connectHeadOf(req: IncomingMessage): ConnectHead {
  const { headers } = req;
  return { target: req.url ?? '', userAgent: headers['user-agent'], referer: headers.referer, authorization: headers['proxy-authorization'], via: headers.via };
}

/**
 * Handles `CONNECT host:port`: admits it, dials through the backend, answers 200 and relays both
 * ways. `client` is not read until the tunnel is up; `rest` is what the client sent after the head.
 */
export function handleConnect(ctx: ProxyContext, head: ConnectHead, client: Socket, rest: Buffer): void {
  client.on('error', destroyOnError);
  const target = parseAuthority(head.target);
  const record = ctx.begin({
    protocol: 'connect',
    clientAddress: clientAddress(client),
    clientPort: clientPort(client),
    method: 'CONNECT',
    host: target?.host ?? '',
    port: target?.port ?? 0,
    userAgent: head.userAgent,
    referer: head.referer,
  });
  if (!target) return answerRaw(ctx, record, client, refusal('bad-request', 'CONNECT needs a host:port target'));
  const request = new ConnectRequest(ctx, record, client, rest);
  request.authorization = head.authorization;
  request.via = head.via;
  admit(ctx, request);
}

/** A CONNECT on its way through admission: dials and relays once admitted. */
class ConnectRequest extends SocketRequest {
  constructor(
    ctx: ProxyContext,
    record: ConnectionRecord,
    socket: Socket,
    head: Buffer,
  ) {
    super(ctx, 'tunnel', 'connect', record, socket);
    this.opening = head;
  }

  protected override readonly canAnswerEarly = true;

  protected override answerEarly(): void {
    this.socket.write(ESTABLISHED);
  }

  admitted(): void {
    const socket = this.socket;
    if (endIfClientGone(this.ctx, this.record, socket, 'client-closed')) return;
    this.dialAddress();
    if (this.intercepted(this.opening, () => this.answerSuccess())) return;
    dialRouted(this.resolution, this, this, this.client, this.record).then(
      (upstream) => this.established(upstream),
      (error: unknown) => refuseDialFailure(this.ctx, this, socket, error),
    );
  }

  /** 200 to the client, unless sniffing answered it already. */
  private answerSuccess(): void {
    this.record.status = 200;
    if (!this.answeredEarly) this.socket.write(ESTABLISHED);
  }

  private established(upstream: Socket): void {
    const { ctx, record, socket, opening: head } = this;
    if (endIfClientGone(ctx, record, socket, 'client-closed', upstream)) return;
    ctx.track(upstream, record);
    this.answerSuccess();
    if (head.length > 0) upstream.write(head);
    relayTunnel(ctx, record, socket, upstream, this.runtime.config.network.timeouts.idleMs, head.length);
  }
}
