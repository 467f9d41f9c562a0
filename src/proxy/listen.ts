import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import type { ListenerSpec } from '../config/model.js';
import type { BoundListener } from '../engine/engine-api.js';

/** Binds a server to a listener spec; rejects with the address and a plain reason when it cannot. */
export function listen(server: NetServer | HttpServer, spec: ListenerSpec): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const why = error.code === 'EADDRINUSE' ? 'address already in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new Error(`cannot listen for ${spec.kind} on ${spec.host}:${spec.port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: spec.host, port: spec.port, backlog: 4096 }, () => {
      server.removeListener('error', onError);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : spec.port;
      resolve({ kind: spec.kind, host: spec.host, port, tls: spec.tls !== undefined });
    });
  });
}

/** Closes a server; resolves once it has closed (or was not listening). */
export function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
