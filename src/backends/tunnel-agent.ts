import { connect as tlsConnect } from 'node:tls';
import { Agent } from 'undici';
import type { NetworkSpec } from '../config/model.js';
import type { Backend, DialOptions } from './backend.js';
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
      dial({ host: options.hostname, port }, dialOptions()).then(
        (socket) => {
          if (options.protocol !== 'https:') return callback(null, socket);
          const secure = tlsConnect({ socket, servername: options.servername || options.hostname, ALPNProtocols: ['http/1.1'], ...originTls() });
          secure.once('secureConnect', () => callback(null, secure));
          secure.once('error', (error) => callback(error, null));
        },
        (error: Error) => callback(error, null),
      );
    },
  });
}
