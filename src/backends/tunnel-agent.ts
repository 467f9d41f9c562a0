import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent } from './undici-parts.js';
import type { NetworkSpec } from '../config/model.js';
import { DialError } from '../errors.js';
import { tlsHandshake } from './tls-handshake.js';
import { lookupMs, stampTiming, type DialTiming } from './dial-timing.js';
import type { Backend, DialOptions, Target } from './backend.js';
import { originTls } from './origin-trust.js';

/**
 * An undici Agent whose connections to origins are opened by a backend's `dial` (TLS added for
 * `https:` origins), so plain HTTP requests get keep-alive pooling per origin through any backend.
 */
export function createTunnelAgent(dial: Backend['dial'], network: NetworkSpec, dialOptions: () => DialOptions): Agent {
  return new Agent({
    keepAliveTimeout: network.keepalive.maxIdleTimeMs,
    keepAliveMaxTimeout: network.keepalive.maxIdleTimeMs,
    headersTimeout: network.timeouts.readMs,
    bodyTimeout: network.timeouts.readMs,
    pipelining: 1,
    maxHeaderSize: network.maxHeaderSize,
    connect: (options, callback) => {
      const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
      const started = Date.now();
      dial({ host: options.hostname, port }, dialOptions()).then(
        (socket) => {
          const dialled = Date.now();
          const dnsMs = lookupMs(socket);
          const timing: DialTiming = { ...(dnsMs !== undefined ? { dnsMs } : {}), connectMs: dialled - started - (dnsMs ?? 0) };
          if (options.protocol !== 'https:') {
            stampTiming(socket, timing);
            return callback(null, socket);
          }
          const secure = tlsConnect({ socket, servername: options.servername || options.hostname, ALPNProtocols: ['http/1.1'], ...originTls() });
          secure.once('secureConnect', () => {
            timing.tlsMs = Date.now() - dialled;
            stampTiming(secure, timing);
            callback(null, secure);
          });
          secure.once('error', (error) => callback(error, null));
        },
        (error: Error) => callback(error, null),
      );
    },
  });
}

/**
 * A fresh connection to an origin opened by a backend's `dial`, with TLS (verified against the
 * origin's name, in at most the connect timeout) for `https:`: the way `Backend.openOrigin` goes
 * through a tunnel.
 */
export async function dialOrigin(dial: Backend['dial'], scheme: 'http:' | 'https:', target: Target, options: DialOptions): Promise<Socket> {
  const socket = await dial(target, options);
  if (scheme !== 'https:') return socket;
  // SNI carries names only (RFC 6066); an IP literal is checked against the certificate without it.
  const tls = { socket, host: target.host, servername: isIP(target.host) ? undefined : target.host, ...originTls() };
  // As on the pooled path, a TLS failure is told with its own message.
  return tlsHandshake(tls, options.connectTimeoutMs, () => new DialError('timeout', `${target.host}:${target.port}: TLS handshake timed out`), (error) => error);
}
