import { isIPv4, isIPv6, type Socket } from 'node:net';
import type { Identity } from '../auth/identity.js';
import { targetText } from '../auth/http-auth.js';
import type { ProxyContext } from './proxy-context.js';
import { SocksReply, dialRefusal, UNHEALTHY_REFUSAL } from './refusals.js';
import { dialRouted } from './routed-dial.js';
import { endIfClientGone, relayTunnel } from './tunnel-relay.js';
import { associateUdp } from '../udp/udp-associate.js';

/** SOCKS5 options that do not come from the routing snapshot. */
export interface Socks5Options {
  /** Time allowed for the whole handshake. */
  handshakeTimeoutMs: number;
}

const enum Stage {
  Greeting,
  Auth,
  Request,
  Connecting,
}

const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NO_ACCEPTABLE = 0xff;
const UDP_ASSOCIATE = 0x03;

/**
 * Serves one SOCKS5 client (RFC 1928, RFC 1929 auth): negotiates, reads a CONNECT request for an
 * IPv4, IPv6 or domain address, dials through the routed backend and relays; a UDP ASSOCIATE
 * request is handed to the UDP relay (src/udp). Every failure gets
 * its reply code; a malformed or truncated handshake closes the connection, nothing else.
 */
export function handleSocks5(ctx: ProxyContext, socket: Socket, options: Socks5Options): void {
  let stage = Stage.Greeting;
  let buffer: Buffer = Buffer.alloc(0);
  let identity: Identity | undefined;
  // Taken once: a reload during the handshake does not change what this client must do.
  const auth = ctx.auth();
  socket.setTimeout(options.handshakeTimeoutMs);
  const onTimeout = (): void => {
    socket.destroy();
  };
  socket.once('timeout', onTimeout);
  socket.on('error', () => socket.destroy());

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
          // A SOCKS4 client gets SOCKS4's own "rejected" answer rather than silence.
          fail(buffer[0] === 0x04 ? Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]) : undefined);
          return 0;
        }
        const count = buffer[1];
        if (buffer.length < 2 + count) return 0;
        const methods = buffer.subarray(2, 2 + count);
        const wantsAuth = auth !== null;
        if (!wantsAuth && methods.includes(NO_AUTH)) {
          socket.write(Buffer.from([0x05, NO_AUTH]));
          stage = Stage.Request;
        } else if (methods.includes(USER_PASS)) {
          socket.write(Buffer.from([0x05, USER_PASS]));
          stage = Stage.Auth;
        } else {
          fail(Buffer.from([0x05, NO_ACCEPTABLE]));
          return 0;
        }
        return 2 + count;
      }
      case Stage.Auth: {
        if (buffer.length < 2) return 0;
        if (buffer[0] !== 0x01) {
          fail(Buffer.from([0x01, 0x01]));
          return 0;
        }
        const ulen = buffer[1];
        if (buffer.length < 3 + ulen) return 0;
        const plen = buffer[2 + ulen];
        const total = 3 + ulen + plen;
        if (buffer.length < total) return 0;
        const username = buffer.toString('utf8', 2, 2 + ulen);
        const password = buffer.toString('utf8', 3 + ulen, total);
        const rest = buffer.subarray(total);
        stage = Stage.Connecting;
        socket.pause();
        const verify = auth ? auth.checkPassword(username, password, socket.remoteAddress ?? '') : Promise.resolve({ user: username, groups: [] });
        verify.then(
          (verdict) => {
            if (verdict === null) return fail(Buffer.from([0x01, 0x01]));
            identity = verdict;
            socket.write(Buffer.from([0x01, 0x00]));
            stage = Stage.Request;
            buffer = Buffer.alloc(0);
            socket.resume();
            if (rest.length > 0) onData(rest);
          },
          () => fail(Buffer.from([0x01, 0x01])),
        );
        return 0;
      }
      case Stage.Request: {
        if (buffer.length < 5) return 0;
        if (buffer[0] !== 0x05 || buffer[2] !== 0x00) {
          fail();
          return 0;
        }
        const atyp = buffer[3];
        let host: string;
        let end: number;
        if (atyp === 0x01) {
          end = 4 + 4;
          if (buffer.length < end + 2) return 0;
          host = `${buffer[4]}.${buffer[5]}.${buffer[6]}.${buffer[7]}`;
        } else if (atyp === 0x03) {
          const len = buffer[4];
          end = 5 + len;
          if (buffer.length < end + 2) return 0;
          host = buffer.toString('latin1', 5, end);
        } else if (atyp === 0x04) {
          end = 4 + 16;
          if (buffer.length < end + 2) return 0;
          const groups: string[] = [];
          for (let i = 4; i < end; i += 2) groups.push(buffer.readUInt16BE(i).toString(16));
          host = groups.join(':');
        } else {
          fail(reply(SocksReply.addressTypeNotSupported));
          return 0;
        }
        const port = buffer.readUInt16BE(end);
        if (buffer[1] === UDP_ASSOCIATE) {
          // DST is where the client will send from, usually 0.0.0.0:0 (not known yet): only its port is used.
          stage = Stage.Connecting;
          socket.removeListener('data', onData);
          socket.removeListener('timeout', onTimeout);
          socket.setTimeout(0);
          associateUdp(ctx, socket, port, identity, auth ? identity?.user : undefined);
          return 0;
        }
        if (buffer[1] !== 0x01) {
          fail(reply(SocksReply.commandNotSupported));
          return 0;
        }
        if (host === '' || port === 0) {
          fail(reply(SocksReply.generalFailure));
          return 0;
        }
        stage = Stage.Connecting;
        socket.removeListener('data', onData);
        socket.pause();
        connectTarget(host, port, buffer.subarray(end + 2));
        return 0;
      }
      default:
        return 0;
    }
  };

  const connectTarget = (host: string, port: number, early: Buffer): void => {
    const user = auth ? identity?.user : undefined;
    const record = ctx.begin({ protocol: 'socks5', clientAddress: socket.remoteAddress ?? '', clientPort: socket.remotePort ?? 0, method: 'SOCKS5', host, port, user });
    const refuse = (code: number, error: string): void => {
      record.status = code;
      record.error = error;
      socket.once('close', () => ctx.end(record));
      socket.end(reply(code));
    };
    const runtime = ctx.runtime();
    const policy = ctx.policy();
    const info = { protocol: 'socks5' as const, client: record.clientAddress, user, host, port };
    policy.checkRequest(info, (denial) => {
      if (denial) {
        if (socket.destroyed) return ctx.end(Object.assign(record, { status: denial.socks, error: denial.error }));
        return refuse(denial.socks, denial.error);
      }
      const resolution = runtime.resolve(host, record.clientAddress);
      record.rule = resolution.rule;
      if (!resolution.ok) return resolution.unhealthy ? refuse(UNHEALTHY_REFUSAL.socks, UNHEALTHY_REFUSAL.reason) : refuse(SocksReply.notAllowed, 'no-route');
      const forbidden = auth?.backendDenial(identity, resolution.backend.name, { client: record.clientAddress, protocol: 'socks5', target: targetText(host, port) });
      if (forbidden) return refuse(forbidden.socks, forbidden.error);
      ctx.routed(record, resolution.backend.name);
      const full = policy.acquireBackend(record, resolution.backend.name, info);
      if (full) return refuse(full.socks, full.error);
      dialRouted(resolution, { host, port }, { connectTimeoutMs: runtime.config.network.timeouts.connectMs, relayOnly: true, refusePrivate: policy.refusesPrivate(record.clientAddress) }, record.clientAddress, record).then(
        (upstream) => {
          if (endIfClientGone(ctx, record, socket, 'client-closed', upstream)) return;
          ctx.track(upstream, record);
          record.status = SocksReply.succeeded;
          socket.removeListener('timeout', onTimeout);
          socket.setTimeout(0);
          socket.write(reply(SocksReply.succeeded, upstream.localAddress, upstream.localPort));
          if (early.length > 0) upstream.write(early);
          relayTunnel(ctx, record, socket, upstream, runtime.config.network.timeouts.idleMs, early.length);
        },
        (error: unknown) => {
          const refusal = dialRefusal(ctx, record, error);
          if (endIfClientGone(ctx, record, socket, refusal.reason)) return;
          refuse(refusal.socks, refusal.reason);
        },
      );
    });
  };

  socket.on('data', onData);
}

/** A SOCKS5 reply with the bound address (IPv4 or IPv6; zeros when unknown). */
function reply(code: number, address?: string, port?: number): Buffer {
  if (address && isIPv6(address) && !address.startsWith('::ffff:')) {
    const out = Buffer.alloc(22);
    out[0] = 0x05;
    out[1] = code;
    out[3] = 0x04;
    writeIpv6(out, 4, address);
    out.writeUInt16BE(port ?? 0, 20);
    return out;
  }
  const out = Buffer.alloc(10);
  out[0] = 0x05;
  out[1] = code;
  out[3] = 0x01;
  const v4 = address?.startsWith('::ffff:') ? address.slice(7) : address;
  if (v4 && isIPv4(v4)) v4.split('.').forEach((octet, i) => (out[4 + i] = Number(octet)));
  out.writeUInt16BE(port ?? 0, 8);
  return out;
}

function writeIpv6(out: Buffer, offset: number, address: string): void {
  const [head, tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right] : left;
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16) || 0, offset + i * 2));
}
