import { Http2ServerResponse, type Http2ServerRequest, type OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/**
 * What the HTTP/1.1 forwarder needs to see in a request that came over HTTP/2 (RFC 9113 section
 * 8.2.3 and 8.3): no pseudo-header fields in the raw list, the cookie crumbs joined back into one
 * field, a body announced as chunked when the stream carries one without a Content-Length, and
 * the TLS connection as its socket.
 */
export function asHttp1(req: Http2ServerRequest, socket: TLSSocket): void {
  const raw = req.rawHeaders;
  const plain: string[] = [];
  let cookies: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (name === 'cookie') cookies = cookies === null ? raw[i + 1] : `${cookies}; ${raw[i + 1]}`;
    else plain.push(name, raw[i + 1]);
  }
  if (cookies !== null) {
    plain.push('cookie', cookies);
    req.headers.cookie = cookies;
  }
  if (req.headers['content-length'] === undefined && !req.stream.endAfterHeaders) {
    plain.push('transfer-encoding', 'chunked');
    req.headers['transfer-encoding'] = 'chunked';
  }
  Object.defineProperty(req, 'rawHeaders', { value: plain });
  // The connection's own socket: its byte counters outlive the stream (shared by the streams of the connection).
  Object.defineProperty(req, 'socket', { value: socket });
}

/**
 * The response side of the forwarder's HTTP/1.1 habits over HTTP/2: a reason phrase is dropped
 * (HTTP/2 has none), and 1xx interim answers, which the forwarder writes raw, are not relayed.
 */
export class Http1StyleResponse extends Http2ServerResponse {
  override writeHead(statusCode: number, reasonOrHeaders?: string | OutgoingHttpHeaders | string[], headers?: OutgoingHttpHeaders | string[]): this {
    const list = typeof reasonOrHeaders === 'string' ? headers : reasonOrHeaders;
    return super.writeHead(statusCode, list as OutgoingHttpHeaders);
  }

  /** The forwarder's raw 1xx write: an HTTP/2 client gets only the final answer. */
  _writeRaw(): boolean {
    return true;
  }
}
