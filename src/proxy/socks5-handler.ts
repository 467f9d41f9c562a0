import type { Socket } from 'node:net';
import type { AuthService } from '../auth/auth-service.js';
import type { Identity } from '../auth/identity.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { SocksCommand, SocksMethod, SocksReply } from '../protocol/socks5-codes.js';
import {
  AUTH_FAILED,
  AUTH_SUCCEEDED,
  chooseMethod,
  encodeReply,
  greetingLength,
  MALFORMED,
  methodChoice,
  NEED_MORE,
  parseRequest,
  parseUserPass,
  SOCKS4_REJECTED,
  type SocksTarget,
} from '../protocol/socks5-codec.js';
import { admit } from './admission/admit.js';
import { SocketRequest } from './admission/socket-request.js';
import { refuseDialFailure } from './admission/answers.js';
import { unwatchIdle, watchIdle, type IdleWatched } from './idle-sweep.js';
import type { ProxyContext } from './proxy-context.js';
import { dialRouted } from './routed-dial.js';
import { destroyOnError, endIfClientGone, relayTunnel } from './tunnel-relay.js';
import { clientAddress, clientPort } from '../protocol/client-address.js';
import { associateUdp } from './udp/udp-associate.js';

/** SOCKS5 options that do not come from the routing snapshot. */
export interface Socks5Options {
  /** Time allowed without traffic from the accept until the request is answered. */
  handshakeTimeoutMs: number;
}

/** Nothing buffered yet: one empty buffer for every handshake (nothing writes into it). */
const NO_BYTES = Buffer.alloc(0);

const enum Stage {
  Greeting,
  Auth,
  /** A password check is running: the socket is paused. */
  Verifying,
  Request,
  /** The handshake is over (answered, refused or handed on): its bytes are no longer read here. */
  Done,
}

/** Where a socket in its handshake finds it: the listeners below are shared by every handshake and get the socket as `this`. */
const HANDSHAKE = Symbol('socks5-handshake');
type Shaking = Socket & { [HANDSHAKE]?: Handshake };

/**
 * Serves one SOCKS5 client (RFC 1928, RFC 1929 auth): negotiates, reads a CONNECT request for an
 * IPv4, IPv6 or domain address, admits it, dials through the routed backend and relays; a UDP
 * ASSOCIATE is handed to the UDP relay (./udp). Every failure gets its reply code; a malformed or truncated handshake closes the connection, nothing else.
 */
export function handleSocks5(ctx: ProxyContext, socket: Socket, options: Socks5Options): void {
  new Handshake(ctx, socket, options.handshakeTimeoutMs).start();
}

/**
 * One connection's handshake. Handshakes are many and short: the listener is a module function
 * shared by all (no closure per connection), the target is read into this object, and messages
 * that arrive together (a pipelining client's greeting, credentials and request in one read) are
 * parsed in one pass from the bytes read, without copying; only a message split over reads is
 * joined. The handshake time is kept by the idle sweep (one interval for every connection with
 * the same time, idle tunnels included) rather than a socket timeout: a connection without
 * traffic for `timeoutMs` until its request is answered is closed after between `timeoutMs` and
 * 9/8 of it, as the re-armed socket timeout did after `timeoutMs`.
 */
class Handshake implements SocksTarget, IdleWatched {
  host = '';
  port = 0;
  idleBytes = 0;
  idleMovedAt = 0;
  private stage = Stage.Greeting;
  /** The start of a message that is not complete yet. */
  private pending: Buffer = NO_BYTES;
  private identity: Identity | undefined = undefined;
  // Taken once: a reload during the handshake does not change what this client must do.
  private readonly auth: AuthService | null;

  constructor(
    private readonly ctx: ProxyContext,
    readonly client: Shaking,
    private readonly timeoutMs: number,
  ) {
    this.auth = ctx.auth();
  }

  start(): void {
    const { client } = this;
    client[HANDSHAKE] = this;
    client.on('error', destroyOnError);
    client.on('data', onHandshakeData);
    watchIdle(this, this.timeoutMs);
  }

  /** Quiet for the handshake time: closed. */
  idle(): void {
    this.client.destroy();
  }

  /** The request was answered, or the client handed to the UDP relay: the handshake time no longer applies. */
  answered(): void {
    unwatchIdle(this, this.timeoutMs);
  }

  /** Takes bytes read: parses every message they complete, keeping an incomplete one's start for the next read. */
  read(chunk: Buffer): void {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = NO_BYTES;
    for (let consumed = this.step(buffer); consumed > 0; consumed = this.step(buffer)) buffer = buffer.subarray(consumed);
    if (this.stage !== Stage.Verifying && this.stage !== Stage.Done) this.pending = buffer.length === 0 ? NO_BYTES : buffer;
  }

  /** Parses one message of the current stage at the start of `buffer`; returns the bytes consumed (0: need more, or the handshake left this stage for good). */
  private step(buffer: Buffer): number {
    switch (this.stage) {
      case Stage.Greeting:
        return this.greeting(buffer);
      case Stage.Auth:
        return this.credentials(buffer);
      case Stage.Request:
        return this.request(buffer);
      default:
        return 0;
    }
  }

  private greeting(buffer: Buffer): number {
    if (buffer.length < 2) return 0;
    if (buffer[0] !== 0x05) return this.fail(buffer[0] === 0x04 ? SOCKS4_REJECTED : undefined);
    const length = greetingLength(buffer);
    if (length === 0) return 0;
    const method = chooseMethod(buffer, this.auth !== null);
    if (method === SocksMethod.noAcceptable) return this.fail(methodChoice(method));
    this.client.write(methodChoice(method));
    this.stage = method === SocksMethod.none ? Stage.Request : Stage.Auth;
    return length;
  }

  private credentials(buffer: Buffer): number {
    const parsed = parseUserPass(buffer);
    if (parsed === null) return 0;
    if (parsed === 'malformed') return this.fail(AUTH_FAILED);
    const { auth, client } = this;
    // Without auth configured any credentials are taken (the client offered only them): nothing to wait for.
    if (auth === null) {
      this.passed();
      return parsed.length;
    }
    this.stage = Stage.Verifying;
    this.pending = buffer.subarray(parsed.length);
    client.pause();
    auth.checkPassword(parsed.username, parsed.password, clientAddress(client)).then(
      (verdict) => this.verified(verdict),
      () => this.fail(AUTH_FAILED),
    );
    return 0;
  }

  private verified(verdict: Identity | null): void {
    if (verdict === null) return void this.fail(AUTH_FAILED);
    this.identity = verdict;
    this.passed();
    this.client.resume();
    const rest = this.pending;
    this.pending = NO_BYTES;
    if (rest.length > 0) this.read(rest);
  }

  private passed(): void {
    this.client.write(AUTH_SUCCEEDED);
    this.stage = Stage.Request;
  }

  private request(buffer: Buffer): number {
    const length = parseRequest(buffer, this);
    if (length === NEED_MORE) return 0;
    if (length < 0) return this.fail(length === MALFORMED ? undefined : encodeReply(-length));
    const { client, auth, identity } = this;
    this.done();
    if (buffer[1] === SocksCommand.udpAssociate) {
      this.answered();
      associateUdp(this.ctx, client, this.port, auth, identity);
      return 0;
    }
    client.pause();
    const user = auth ? identity?.user : undefined;
    const record = this.ctx.begin({ protocol: 'socks5', clientAddress: clientAddress(client), clientPort: clientPort(client), method: 'SOCKS5', host: this.host, port: this.port, user });
    const request = new Socks5Request(this.ctx, record, client, buffer.subarray(length), this);
    request.auth = auth;
    request.authenticated = true;
    if (auth) {
      request.identity = identity;
      request.user = user;
      request.groups = identity?.groups;
    }
    admit(this.ctx, request);
    return 0;
  }

  /** Ends the handshake with `reply` (then closes once it is sent) or, without one, by closing at once. Returns 0: nothing more is parsed. */
  private fail(reply?: Buffer): 0 {
    this.done();
    if (reply) this.client.end(reply);
    else {
      this.answered();
      this.client.destroy();
    }
    return 0;
  }

  /** Reads no more handshake bytes; the handshake time still runs until answered(). */
  private done(): void {
    this.stage = Stage.Done;
    this.pending = NO_BYTES;
    this.client.removeListener('data', onHandshakeData);
    this.client[HANDSHAKE] = undefined;
  }
}

function onHandshakeData(this: Shaking, chunk: Buffer): void {
  this[HANDSHAKE]!.read(chunk);
}

/** A SOCKS5 CONNECT on its way through admission: dials, answers "succeeded" and relays once admitted. */
class Socks5Request extends SocketRequest {
  constructor(
    ctx: ProxyContext,
    record: ConnectionRecord,
    socket: Socket,
    early: Buffer,
    private readonly handshake: Handshake,
  ) {
    super(ctx, 'tunnel', 'socks5', record, socket);
    this.opening = early;
  }

  protected override readonly canAnswerEarly = true;

  // Sniffing answers before the dial: no bound address is known yet (zeros, as RFC 1928 allows).
  protected override answerEarly(): void {
    this.handshake.answered();
    this.socket.write(encodeReply(SocksReply.succeeded));
  }

  admitted(): void {
    this.dialAddress();
    if (this.intercepted(this.opening, () => this.answered())) return;
    dialRouted(this.resolution, this, this, this.client, this.record).then(
      (upstream) => this.established(upstream),
      (error: unknown) => refuseDialFailure(this.ctx, this, this.socket, error),
    );
  }

  private established(upstream: Socket): void {
    const { ctx, record, socket, opening: early } = this;
    if (endIfClientGone(ctx, record, socket, 'client-closed', upstream)) return;
    ctx.track(upstream, record);
    this.answered(upstream);
    if (early.length > 0) upstream.write(early);
    relayTunnel(ctx, record, socket, upstream, this.runtime.config.network.timeouts.idleMs, early.length);
  }

  /** The success reply, with the upstream's local address when there is one (an intercepted tunnel has none yet), unless sniffing answered it already. */
  private answered(upstream?: Socket): void {
    this.record.status = SocksReply.succeeded;
    this.handshake.answered();
    if (!this.answeredEarly) this.socket.write(encodeReply(SocksReply.succeeded, upstream?.localAddress, upstream?.localPort));
  }
}
