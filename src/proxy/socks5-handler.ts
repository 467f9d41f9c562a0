import type { Socket } from 'node:net';
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
import type { ProxyContext } from './proxy-context.js';
import { dialRouted } from './routed-dial.js';
import { destroyOnError, endIfClientGone, relayTunnel } from './tunnel-relay.js';
import { clientAddress, clientPort } from '../protocol/client-address.js';
import { associateUdp } from './udp/udp-associate.js';

/** SOCKS5 options that do not come from the routing snapshot. */
export interface Socks5Options {
  /** Time allowed for the whole handshake. */
  handshakeTimeoutMs: number;
}

/** Nothing buffered yet: one empty buffer for every handshake (nothing writes into it). */
const NO_BYTES = Buffer.alloc(0);

const enum Stage {
  Greeting,
  Auth,
  Request,
  Connecting,
}

/**
 * Serves one SOCKS5 client (RFC 1928, RFC 1929 auth): negotiates, reads a CONNECT request for an
 * IPv4, IPv6 or domain address, admits it, dials through the routed backend and relays; a UDP
 * ASSOCIATE is handed to the UDP relay (./udp). Every failure gets its reply code; a malformed or truncated handshake closes the connection, nothing else.
 */
export function handleSocks5(ctx: ProxyContext, socket: Socket, options: Socks5Options): void {
  let stage = Stage.Greeting;
  let buffer: Buffer = NO_BYTES;
  let identity: Identity | undefined;
  // Taken once: a reload during the handshake does not change what this client must do.
  const auth = ctx.auth();
  const target: SocksTarget = { host: '', port: 0 };
  socket.setTimeout(options.handshakeTimeoutMs);
  socket.once('timeout', onTimeout);
  socket.on('error', destroyOnError);

  function onTimeout(): void {
    socket.destroy();
  }

  const fail = (reply?: Buffer): void => {
    stage = Stage.Connecting;
    socket.removeListener('data', onData);
    if (reply) socket.end(reply);
    else socket.destroy();
  };

  const onData = (chunk: Buffer): void => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (stage !== Stage.Connecting) {
      const consumed = step();
      if (consumed === 0) return;
      buffer = buffer.subarray(consumed);
    }
  };

  /** Parses one message of the current stage; returns the bytes consumed (0: need more). */
  const step = (): number => {
    switch (stage) {
      case Stage.Greeting: {
        if (buffer.length < 2) return 0;
        if (buffer[0] !== 0x05) {
          fail(buffer[0] === 0x04 ? SOCKS4_REJECTED : undefined);
          return 0;
        }
        const length = greetingLength(buffer);
        if (length === 0) return 0;
        const method = chooseMethod(buffer, auth !== null);
        if (method === SocksMethod.noAcceptable) {
          fail(methodChoice(method));
          return 0;
        }
        socket.write(methodChoice(method));
        stage = method === SocksMethod.none ? Stage.Request : Stage.Auth;
        return length;
      }
      case Stage.Auth: {
        const parsed = parseUserPass(buffer);
        if (parsed === null) return 0;
        if (parsed === 'malformed') {
          fail(AUTH_FAILED);
          return 0;
        }
        authenticate(parsed.username, parsed.password, buffer.subarray(parsed.length));
        return 0;
      }
      case Stage.Request: {
        const length = parseRequest(buffer, target);
        if (length === NEED_MORE) return 0;
        if (length < 0) {
          fail(length === MALFORMED ? undefined : encodeReply(-length));
          return 0;
        }
        stage = Stage.Connecting;
        socket.removeListener('data', onData);
        if (buffer[1] === SocksCommand.udpAssociate) {
          socket.removeListener('timeout', onTimeout);
          socket.setTimeout(0);
          associateUdp(ctx, socket, target.port, auth, identity);
          return 0;
        }
        socket.pause();
        connectTarget(buffer.subarray(length));
        return 0;
      }
      default:
        return 0;
    }
  };

  const authenticate = (username: string, password: string, rest: Buffer): void => {
    stage = Stage.Connecting;
    socket.pause();
    const verify = auth ? auth.checkPassword(username, password, clientAddress(socket)) : Promise.resolve({ user: username, groups: [] });
    verify.then(
      (verdict) => {
        if (verdict === null) return fail(AUTH_FAILED);
        identity = verdict;
        socket.write(AUTH_SUCCEEDED);
        stage = Stage.Request;
        buffer = NO_BYTES;
        socket.resume();
        if (rest.length > 0) onData(rest);
      },
      () => fail(AUTH_FAILED),
    );
  };

  const connectTarget = (early: Buffer): void => {
    const user = auth ? identity?.user : undefined;
    const record = ctx.begin({ protocol: 'socks5', clientAddress: clientAddress(socket), clientPort: clientPort(socket), method: 'SOCKS5', host: target.host, port: target.port, user });
    const request = new Socks5Request(ctx, record, socket, early, onTimeout);
    request.auth = auth;
    request.authenticated = true;
    if (auth) {
      request.identity = identity;
      request.user = user;
      request.groups = identity?.groups;
    }
    admit(ctx, request);
  };

  socket.on('data', onData);
}

/** A SOCKS5 CONNECT on its way through admission: dials, answers "succeeded" and relays once admitted. */
class Socks5Request extends SocketRequest {
  constructor(
    ctx: ProxyContext,
    record: ConnectionRecord,
    socket: Socket,
    early: Buffer,
    private readonly onTimeout: () => void,
  ) {
    super(ctx, 'tunnel', 'socks5', record, socket);
    this.opening = early;
  }

  protected override readonly canAnswerEarly = true;

  // Sniffing answers before the dial: no bound address is known yet (zeros, as RFC 1928 allows).
  protected override answerEarly(): void {
    this.stopHandshakeTimer();
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
    this.stopHandshakeTimer();
    if (!this.answeredEarly) this.socket.write(encodeReply(SocksReply.succeeded, upstream?.localAddress, upstream?.localPort));
  }

  private stopHandshakeTimer(): void {
    this.socket.removeListener('timeout', this.onTimeout);
    this.socket.setTimeout(0);
  }
}
