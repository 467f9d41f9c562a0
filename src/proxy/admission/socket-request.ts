import { isIP, type Socket } from 'node:net';
import type { ConnectionRecord, FrontProtocol } from '../../protocol/connection-record.js';
import type { Refusal } from '../../protocol/refusal.js';
import type { ProxyContext } from '../proxy-context.js';
import { AdmissionRequest, type RequestKind } from './admission-request.js';
import { answerRaw, answerSocks, closeRefused } from './answers.js';
import { sniffOpening } from './sniff-opening.js';
import { dialRouted } from '../routed-dial.js';

/** No opening bytes: one empty buffer for every request (nothing writes into it). */
const NO_BYTES = Buffer.alloc(0);

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

  /** The bytes the client sent after its request and before the tunnel is up: forwarded first. */
  opening: Buffer = NO_BYTES;
  /** Success was answered before routing, to read the name the client's first bytes carry: a refusal now can only close. */
  answeredEarly = false;
  /** Whether the front can answer success ahead of the dial (CONNECT, SOCKS5), and so sniff; those override answerEarly(). */
  protected readonly canAnswerEarly: boolean = false;

  /** Answers success ahead of the dial, to let the client send the bytes that are sniffed. */
  protected answerEarly(): void {}

  /**
   * For an IP-literal target, with `sniff: true` on the listener or on the rule the address takes: answers success, reads the client's first bytes
   * (bounded in time and size) and routes by the name they carry, the address kept for IP keys
   * and for the dial.
   */
  override sniffsFirst(): boolean {
    return this.canAnswerEarly && isIP(this.host) !== 0 && this.runtime.wantsSniff(this);
  }

  override beforeRoute(route: () => void): void {
    this.answeredEarly = true;
    this.answerEarly();
    sniffOpening(this.socket, this.opening, (opening, name) => {
      this.opening = opening;
      if (name !== null) {
        this.record.sniffedHost = name;
        this.sniffedFrom = this.host;
        this.host = name;
      }
      route();
    });
  }

  /** Back to the address the client asked for before dialling, when the route was chosen by a sniffed name. */
  protected dialAddress(): void {
    if (this.sniffedFrom !== undefined) this.host = this.sniffedFrom;
  }

  /** Hands the admitted tunnel to the interception front when its host is to be intercepted (debug.mitm); true when it did. */
  protected intercepted(head: Buffer, established: () => void): boolean {
    const front = this.ctx.interceptor(this.host);
    if (front === null) return false;
    front.take({ record: this.record, client: this.socket, head, target: this, identity: this.identity, established, dial: () => dialRouted(this.resolution, this, this, this.client, this.record) });
    return true;
  }

  refused(refused: Refusal): void {
    if (this.answeredEarly) closeRefused(this.ctx, this.record, this.socket, refused);
    else if (this.protocol === 'socks5') answerSocks(this.ctx, this.record, this.socket, refused);
    else answerRaw(this.ctx, this.record, this.socket, refused);
  }
}
