import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Backend } from '../backends/backend.js';
import { authority } from '../backends/http-connect.js';
import { authenticateHttp, targetText } from '../auth/http-auth.js';
import type { AuthRefusal } from '../auth/auth-service.js';
import { BodyCapture } from './body-capture.js';
import { holdAfterWrite, type Pacer } from '../limits/bandwidth.js';
import { setDenialHeaders } from '../policy/denial.js';
import { backendFault } from '../health/backend-fault.js';
import type { ConnectionRecord } from './connection-record.js';
import { stripHopByHop } from './hop-by-hop.js';
import { badTargetReason, parseAbsoluteTarget } from './http-target.js';
import { addForwarded, FORWARDED_FIELDS } from './forwarded-for.js';
import { answerAsRecipient, maxForwards, setMaxForwards } from './max-forwards.js';
import type { ProxyContext } from './proxy-context.js';
import { dialRefusal, UNHEALTHY_REFUSAL, VIA_LOOP } from './refusals.js';

const READ_MARK = Symbol('bytes read when the last request ended');
type CountedSocket = IncomingMessage['socket'] & { [READ_MARK]?: number };

const DROP_ON_REQUEST = new Set(['host', 'expect']);
const DROP_WITH_FORWARDED = new Set([...DROP_ON_REQUEST, ...FORWARDED_FIELDS]);
/** Undici's word for a body that did not come, which a 204 or 304 with Content-Length never has. */
const LENGTH_MISMATCH = 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
const DROP_ON_RESPONSE = new Set(['via']);

/** Sends a short plain-text error response (one line of reason) and marks the record. */
export function sendError(res: ServerResponse, record: ConnectionRecord | null, status: number, reason: string, proxyStatus?: string, error?: string): void {
  if (record) {
    record.status = status;
    record.error = error ?? proxyStatus;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${reason}\n`;
  const headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) };
  if (proxyStatus) headers['proxy-status'] = `simple-proxy; error=${proxyStatus}`;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Forwards one absolute-form HTTP request through the backend its host routes to, streaming
 * bodies both ways over pooled keep-alive connections.
 */
export function forwardHttpRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  const target = parseAbsoluteTarget(req.url ?? '');
  if (!target) {
    const record = ctx.begin({ protocol: 'http', clientAddress: socket.remoteAddress ?? '', clientPort: socket.remotePort ?? 0, method: req.method ?? '', host: '', port: 0, path: req.url });
    sendError(res, record, 400, badTargetReason(req.url ?? ''), 'http_request_error', 'bad-request');
    ctx.end(record);
    return;
  }
  const record = ctx.begin({
    protocol: 'http',
    clientAddress: socket.remoteAddress ?? '',
    clientPort: socket.remotePort ?? 0,
    method: req.method ?? 'GET',
    host: target.host,
    port: target.port,
    path: target.path,
    userAgent: req.headers['user-agent'],
    referer: req.headers.referer,
  });
  const bytesBefore = socket.bytesWritten;
  const capture = ctx.capture();
  const requestBody = capture && capture.bodyBytes > 0 ? new BodyCapture(capture.bodyBytes) : null;
  const responseBody = capture && capture.bodyBytes > 0 ? new BodyCapture(capture.bodyBytes) : null;
  if (capture?.headers) record.requestHeaders = req.rawHeaders.slice();
  res.once('close', () => {
    record.bytesOut = socket.bytesWritten - bytesBefore;
    // Bytes read since the previous request on this connection ended: this request's head and body.
    const read = socket.bytesRead;
    record.bytesIn = read - ((socket as CountedSocket)[READ_MARK] ?? 0);
    (socket as CountedSocket)[READ_MARK] = read;
    if (requestBody) record.requestBody = requestBody.result();
    if (responseBody) record.responseBody = responseBody.result();
    ctx.end(record);
  });
  if (ctx.draining()) res.shouldKeepAlive = false;

  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 3 && raw[i].toLowerCase() === 'via' && raw[i + 1].includes(ctx.viaToken)) {
      ctx.policy().refusedLoop(record, VIA_LOOP);
      sendError(res, record, 508, VIA_LOOP, 'proxy_loop_detected', 'loop');
      return;
    }
  }
  const runtime = ctx.runtime();
  const policy = ctx.policy();
  const auth = ctx.auth();
  const refuseAuth = (refusal: AuthRefusal): void => {
    for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
    sendError(res, record, refusal.status, refusal.reason, undefined, refusal.error);
  };
  authenticateHttp(auth, req, record, refuseAuth, (identity) => {
    const info = { protocol: 'http' as const, client: record.clientAddress, user: identity?.user, host: target.host, port: target.port };
    policy.checkRequest(info, (denial) => {
      if (denial) {
        setDenialHeaders(res, denial);
        return sendError(res, record, denial.status, denial.reason, denial.proxyStatus, denial.error);
      }
      const hops = maxForwards(req.method ?? '', raw);
      if (hops === 0) return answerAsRecipient(req, res, record, `${req.httpVersion} ${ctx.viaToken}`);
      const resolution = runtime.resolve(target.host, record.clientAddress);
      record.rule = resolution.rule;
      if (!resolution.ok) {
        if (resolution.unhealthy) sendError(res, record, UNHEALTHY_REFUSAL.status, resolution.reason, UNHEALTHY_REFUSAL.proxyStatus, UNHEALTHY_REFUSAL.reason);
        else sendError(res, record, 403, resolution.reason, 'destination_ip_prohibited', 'no-route');
        return;
      }
      const forbidden = auth?.backendDenial(identity, resolution.backend.name, { client: record.clientAddress, protocol: 'http', target: targetText(target.host, target.port) });
      if (forbidden) return sendError(res, record, forbidden.status, forbidden.reason, forbidden.proxyStatus, forbidden.error);
      ctx.routed(record, resolution.backend.name);
      const full = policy.acquireBackend(record, resolution.backend.name, info);
      if (full) return sendError(res, record, full.status, full.reason, full.proxyStatus, full.error);
      const forwardedFor = runtime.config.network.forwardedFor;
      const headers = stripHopByHop(raw, forwardedFor === 'off' ? DROP_ON_REQUEST : DROP_WITH_FORWARDED);
      addForwarded(forwardedFor, raw, record.clientAddress, headers);
      if (hops !== null) setMaxForwards(headers, hops - 1);
      headers.push('host', authority(target).replace(target.scheme === 'https:' ? /:443$/ : /:80$/, ''), 'via', `${req.httpVersion} ${ctx.viaToken}`);
      const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
      const method = req.method ?? 'GET';
      const group = resolution.group;
      const pacer = policy.pacer(record.clientAddress);
      const body = hasBody ? (requestBody ? Readable.from(requestBody.tee(req), { objectMode: false }) : req) : null;

      const common = headers.length;
      const refusePrivate = policy.refusesPrivate(record.clientAddress);
      const send = (backend: Backend, retried: boolean): void => {
        const route = backend.httpRoute(target.scheme, target, target.path, refusePrivate);
        // A retry replaces the first member's own headers (its upstream credentials) with the next one's.
        headers.length = common;
        for (let i = 0; i < route.headers.length; i += 2) headers.push(route.headers[i], route.headers[i + 1]);
        let balanced: Balanced | undefined;
        if (group) {
          group.opened(backend, res);
          balanced = {
            answered: () => group.report(backend, true),
            retry: (error) => {
              const fault = backendFault(error, backend.type);
              if (fault) group.report(backend, false, error.message);
              // Only a request without a body can be sent again: its bytes were not consumed.
              if (retried || hasBody) return false;
              if (!fault && !(IDEMPOTENT.has(method) && RESET_CODES.has((error as { code?: string }).code ?? ''))) return false;
              const other = group.pick(record.clientAddress, backend);
              if (!other) return false;
              record.backend = other.name;
              send(other, true);
              return true;
            },
          };
        }
        const handler = new ResponseRelay(ctx, req, res, record, pacer, capture?.headers === true, responseBody, balanced);
        route.dispatcher.dispatch({ origin: route.origin, path: route.path, method, headers, body }, handler as unknown as Dispatcher.DispatchHandler);
      };
      send(resolution.backend, false);
    });
  });
}

/** Methods a reset on a reused upstream connection may be retried for (RFC 9110 section 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/** How a reused upstream connection closed under a request shows up: undici's own code or the socket's errno. */
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** ServerResponse's raw write, the one Node uses for writeContinue and writeEarlyHints. */
interface RawWritable {
  _writeRaw(data: string, encoding: BufferEncoding): boolean;
}

/** What a request to a balanced rule does besides relaying: feed the passive check, and retry once elsewhere. */
interface Balanced {
  answered(): void;
  /** Takes over a failure before any answer (true) by sending the request through another member. */
  retry(error: Error): boolean;
}

/**
 * Streams an upstream response into the client's ServerResponse. Uses undici's raw-header
 * handler interface, which skips header parsing we would only undo, and maps the write
 * side's backpressure onto undici's pause/resume.
 */
class ResponseRelay {
  private abort: ((error?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private done = false;
  /** When the request was handed to the backend's pool, then when its answer's head came. */
  private readonly sentAt = Date.now();
  private headAt = 0;
  /** The answer is a 204 or 304: it has no body, whatever its Content-Length says. */
  private bodiless = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly record: ConnectionRecord,
    private readonly pacer: Pacer | null,
    private readonly keepHeaders: boolean,
    private readonly body: BodyCapture | null,
    private readonly balanced?: Balanced,
  ) {
    res.once('close', () => {
      pacer?.release();
      if (!this.done) this.abort?.(new Error('client closed'));
    });
    // A paced response resumes from holdAfterWrite, after the drain and the pace's wait.
    if (!pacer) res.on('drain', () => this.resume?.());
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    this.ctx.cancellable(this.record, abort);
    if (this.res.destroyed) abort(new Error('client closed'));
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) {
      this.interim(status, statusText, rawHeaders);
      return true;
    }
    this.bodiless = status === 204 || status === 304;
    this.headAt = Date.now();
    this.record.waitMs = this.headAt - this.sentAt;
    this.balanced?.answered();
    this.resume = resume;
    const headers: string[] = new Array(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) headers[i] = rawHeaders[i].toString('latin1');
    const kept = stripHopByHop(headers, DROP_ON_RESPONSE);
    kept.push('via', `1.1 ${this.ctx.viaToken}`);
    this.record.status = status;
    if (this.keepHeaders) this.record.responseHeaders = kept;
    this.res.writeHead(status, statusText, kept);
    return true;
  }

  /** Relays a 1xx answer (103 Early Hints and others, RFC 9110 15.2) ahead of the final one; never to an HTTP/1.0 client. */
  private interim(status: number, statusText: string, rawHeaders: Buffer[]): void {
    if (this.req.httpVersion === '1.0' || this.res.headersSent || status === 101) return;
    const headers: string[] = new Array(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) headers[i] = rawHeaders[i].toString('latin1');
    const kept = stripHopByHop(headers, DROP_ON_RESPONSE);
    let head = `HTTP/1.1 ${status} ${statusText}\r\n`;
    for (let i = 0; i < kept.length; i += 2) head += `${kept[i]}: ${kept[i + 1]}\r\n`;
    // The way Node writes its own 1xx answers: straight out, or queued behind an earlier pipelined response.
    (this.res as unknown as RawWritable)._writeRaw(`${head}\r\n`, 'latin1');
  }

  onData(chunk: Buffer): boolean {
    this.body?.add(chunk);
    const ok = this.res.write(chunk);
    if (!this.pacer) return ok;
    return holdAfterWrite(ok, this.pacer.down(chunk.length), this.res, () => undefined, () => this.resume?.());
  }

  onComplete(): void {
    this.done = true;
    if (this.headAt > 0) this.record.receiveMs = Date.now() - this.headAt;
    this.res.end();
  }

  onError(error: Error): void {
    // A 204 or 304 that names the length of the representation it leaves out (RFC 9110 8.6) is complete as it is.
    if (this.bodiless && (error as { code?: string }).code === LENGTH_MISMATCH) return this.onComplete();
    this.done = true;
    if (this.res.headersSent) {
      this.record.error = (error as { code?: string }).code ?? 'upstream-error';
      this.res.destroy();
      return;
    }
    if (this.res.destroyed || this.req.destroyed) {
      this.record.error = 'client-closed';
      return;
    }
    if (this.balanced?.retry(error)) return;
    const refusal = dialRefusal(this.ctx, this.record, error);
    // A reload's close (reload.drain_timeout) names itself in the record, as on a closed tunnel.
    const reason = (error as { code?: string }).code === 'backend-removed' ? 'backend-removed' : refusal.reason;
    sendError(this.res, this.record, refusal.status, refusal.message, refusal.proxyStatus, reason);
  }
}
