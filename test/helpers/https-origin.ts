import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { makeTlsFiles, type TlsFiles } from './tls-files.js';

/** An HTTPS origin on loopback speaking HTTP/2 and HTTP/1.1, with a certificate for localhost from a CA of its own. */
export interface Origin {
  server: Http2SecureServer;
  port: number;
  files: TlsFiles;
}

/** Starts an origin in `dir` (its CA and certificate made there with openssl); the handler answers every request. */
export async function startOrigin(dir: string, handler: Parameters<typeof createSecureServer>[1]): Promise<Origin> {
  const files = makeTlsFiles(dir, ['localhost']);
  const server = createSecureServer({ cert: readFileSync(files.cert), key: readFileSync(files.key), allowHTTP1: true }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, files };
}
