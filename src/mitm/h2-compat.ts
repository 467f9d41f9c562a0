import { Http2ServerRequest, Http2ServerResponse, type Http2ServerRequest as Request, type OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { h1HeadSize } from './h1-head-size.js';

/** `date: Sun, 06 Dec 2026 06:32:30 GMT\r\n`: the field HTTP/2 adds to a head that has none. */
const DATE_LINE = 37;

/**
 * A request read off an HTTP/2 stream that counts its own bytes: the connection's counters are
 * shared by every stream on it, so they say nothing about one request.
 */
export class CountedRequest extends Http2ServerRequest {
  /** Body bytes received on this stream. */
  bodyReceived = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined) this.bodyReceived += Buffer.isBuffer(chunk) ? chunk.length : Buffer.byteLength(String(chunk), encoding);
    return super.push(chunk, encoding);
  }
}

/**
 * What the HTTP/1.1 forwarder needs to see in a request that came over HTTP/2 (RFC 9113 section
 * 8.2.3 and 8.3): no pseudo-header fields in the raw list, the cookie crumbs joined back into one
 * field, a body announced as chunked when the stream carries one without a Content-Length, and as
 * its socket a view of the TLS connection whose byte counters are this stream's alone: the head
 * and body of the request and of its answers, counted as the HTTP/1.1 text of the same fields
 * (as curl reports HTTP/2 sizes), so that concurrent streams do not count each other's bytes.
 */
export function asHttp1(req: Request, res: Http2ServerResponse, socket: TLSSocket): void {
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
  const head = `${req.method} ${req.url} HTTP/2\r\n`.length + h1HeadSize(plain) + (req.authority ? `host: ${req.authority}\r\n`.length : 0);
  if (req.headers['content-length'] === undefined && !req.stream.endAfterHeaders) {
    plain.push('transfer-encoding', 'chunked');
    req.headers['transfer-encoding'] = 'chunked';
  }
  Object.defineProperty(req, 'rawHeaders', { value: plain });
  const counted = req as CountedRequest;
  const answer = res as Http1StyleResponse;
  // Reads through to the connection (its address, its interception mark); only the counters are the stream's.
  const view = Object.create(socket, {
    bytesRead: { get: () => head + (counted.bodyReceived ?? 0) },
    bytesWritten: { get: () => answer.sent ?? 0 },
  }) as TLSSocket;
  Object.defineProperty(req, 'socket', { value: view });
}

/**
 * The response side of the forwarder's HTTP/1.1 habits over HTTP/2: a reason phrase is dropped
 * (HTTP/2 has none), 1xx interim answers go out as informational HEADERS frames, and the bytes
 * of the answer are counted (heads as HTTP/1.1 text, as curl counts them, and the body).
 */
export class Http1StyleResponse extends Http2ServerResponse {
  /** Bytes of this answer so far: 1xx and final heads, then the body. */
  sent = 0;
  private headCounted = false;

  override writeHead(statusCode: number, reasonOrHeaders?: string | OutgoingHttpHeaders | string[], headers?: OutgoingHttpHeaders | string[]): this {
    const list = typeof reasonOrHeaders === 'string' ? headers : reasonOrHeaders;
    super.writeHead(statusCode, list as OutgoingHttpHeaders);
    this.countHead();
    return this;
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const ok = super.write(chunk as string, encoding as BufferEncoding, callback as () => void);
    this.countHead();
    if (typeof chunk === 'string') this.sent += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) this.sent += chunk.byteLength;
    return ok;
  }

  override writeContinue(): void {
    super.writeContinue();
    this.sent += h1HeadSize([], 100);
  }

  /** Sends a 1xx answer the origin gave (103 Early Hints and others) as an informational HEADERS frame. */
  writeInterim(status: number, headers: string[]): void {
    const fields: OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i].toLowerCase();
      const had = fields[name];
      fields[name] = had === undefined ? headers[i + 1] : [...(Array.isArray(had) ? had : [String(had)]), headers[i + 1]];
    }
    this.stream.additionalHeaders(fields);
    this.sent += h1HeadSize(headers, status);
  }

  /** The final head as it went out (Node adds a date when it has none), once. */
  private countHead(): void {
    if (this.headCounted || !this.headersSent) return;
    this.headCounted = true;
    const fields: string[] = [];
    const all = this.getHeaders();
    for (const name of Object.keys(all)) {
      if (name.charCodeAt(0) === 58 /* : */) continue;
      const value = all[name];
      if (Array.isArray(value)) for (const v of value) fields.push(name, v);
      else fields.push(name, String(value));
    }
    this.sent += h1HeadSize(fields, this.statusCode) + (this.sendDate && all.date === undefined ? DATE_LINE : 0);
  }
}
