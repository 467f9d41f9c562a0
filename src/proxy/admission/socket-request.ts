import type { Socket } from 'node:net';
import type { ConnectionRecord, FrontProtocol } from '../../protocol/connection-record.js';
import type { Refusal } from '../../protocol/refusal.js';
import type { ProxyContext } from '../proxy-context.js';
import { AdmissionRequest, type RequestKind } from './admission-request.js';
import { answerRaw, answerSocks } from './answers.js';

/** A request that arrived on a client socket the front answers on itself: raw HTTP (CONNECT, upgrade) or SOCKS5. */
export abstract class SocketRequest extends AdmissionRequest {
  constructor(
    protected readonly ctx: ProxyContext,
    kind: RequestKind,
    protocol: FrontProtocol,
    record: ConnectionRecord,
    /** The client's connection. */
    protected readonly socket: Socket,
  ) {
    super(kind, protocol, record);
  }

  refused(refused: Refusal): void {
    if (this.protocol === 'socks5') answerSocks(this.ctx, this.record, this.socket, refused);
    else answerRaw(this.ctx, this.record, this.socket, refused);
  }
}
