import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Backend } from '../backends/backend.js';
import { backendFault } from '../health/backend-fault.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { refusal, type Refusal } from '../protocol/refusal.js';
import { admit } from './admission/admit.js';
import { AdmissionRequest } from './admission/admission-request.js';
import { answerResponse } from './admission/answers.js';
import { BodyCapture } from './body-capture.js';
import { stripHopByHop } from './hop-by-hop.js';
import { badTargetReason, parseAbsoluteTarget, type HttpTarget } from './http-target.js';
import { addForwarded, FORWARDED_FIELDS } from './forwarded-for.js';
import { answerAsRecipient, maxForwards, setMaxForwards } from './max-forwards.js';
import type { ProxyContext } from './proxy-context.js';
import { IDEMPOTENT, RESET_CODES, ResponseRelay, type Balanced } from './response-relay.js';
import { clientAddress, clientPort } from '../protocol/client-address.js';
import { awaitsContinue, forwardAwaitingContinue } from './expect-continue.js';
import { sendOnLink } from './origin-link.js';

const READ_MARK = Symbol('bytes read when the last request ended');
type CountedSocket = IncomingMessage['socket'] & { [READ_MARK]?: number };

const DROP_ON_REQUEST = new Set(['host', 'expect']);
const DROP_WITH_FORWARDED = new Set([...DROP_ON_REQUEST, ...FORWARDED_FIELDS]);

/**
 * Forwards one absolute-form HTTP request through the backend its host routes to, streaming
 * bodies both ways over pooled keep-alive connections.
 */
export function forwardHttpRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  const target = parseAbsoluteTarget(req.url ?? '');
  if (!target) {
    const record = ctx.begin({ protocol: 'http', clientAddress: clientAddress(socket), clientPort: clientPort(socket), method: req.method ?? '', host: '', port: 0, path: req.url });
    answerResponse(res, record, refusal('bad-request', badTargetReason(req.url ?? '')));
    ctx.end(record);
    return;
  }
  const record = ctx.begin({
    protocol: 'http',
    clientAddress: clientAddress(socket),
    clientPort: clientPort(socket),
    method: req.method ?? 'GET',
    host: target.host,
    port: target.port,
    path: target.path,
    userAgent: req.headers['user-agent'],
    referer: req.headers.referer,
  });
  const bytesBefore = socket.bytesWritten;
  ctx.meter(record, socket, (socket as CountedSocket)[READ_MARK] ?? 0, bytesBefore);
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
  const request = new HttpRequest(ctx, record, req, res, target, requestBody, responseBody, capture?.headers === true);
  request.authorization = req.headers['proxy-authorization'];
  request.asTunnelUser(socket);
  request.via = req.headers.via;
  request.selfAddressed = request.hops === 0;
  admit(ctx, request);
}

/** A plain HTTP request on its way through admission: forwarded through its backend once admitted. */
class HttpRequest extends AdmissionRequest {
  /** Max-Forwards of a TRACE or OPTIONS (0: this proxy is the recipient), else null. */
  readonly hops: number | null;

  constructor(
    private readonly ctx: ProxyContext,
    record: ConnectionRecord,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly target: HttpTarget,
    private readonly requestBody: BodyCapture | null,
    private readonly responseBody: BodyCapture | null,
    private readonly keepHeaders: boolean,
  ) {
    super('http-request', 'http', record);
    this.hops = maxForwards(req.method ?? '', req.rawHeaders);
  }

  refused(refused: Refusal): void {
    answerResponse(this.res, this.record, refused);
  }

  override answerLocally(): void {
    answerAsRecipient(this.req, this.res, this.record, `${this.req.httpVersion} ${this.ctx.viaToken}`);
  }

  admitted(): void {
    const { ctx, req, res, record, target, resolution } = this;
    const raw = req.rawHeaders;
    const forwardedFor = this.runtime.config.network.forwardedFor;
    const headers = stripHopByHop(raw, forwardedFor === 'off' ? DROP_ON_REQUEST : DROP_WITH_FORWARDED);
    addForwarded(forwardedFor, raw, record.clientAddress, headers);
    if (this.hops !== null) setMaxForwards(headers, this.hops - 1);
    headers.push('host', hostField(target), 'via', `${req.httpVersion} ${ctx.viaToken}`);
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const method = req.method ?? 'GET';
    const group = resolution.group;
    const pacer = this.policy.pacer(record.clientAddress);
    const requestBody = this.requestBody;
    const body = hasBody ? (requestBody ? Readable.from(requestBody.tee(req), { objectMode: false }) : req) : null;

    const common = headers.length;
    const refusePrivate = this.refusePrivate;
    const network = this.runtime.config.network;
    // A bodiless GET or HEAD straight to an http origin goes on the client connection's own origin
    // connection (origin-link.ts); balanced rules (their retries) and requests the debugger looks into
    // (undici's connection timings) take the pool.
    const linked = body === null && !group && target.scheme === 'http:' && (method === 'GET' || method === 'HEAD') && req.httpVersionMajor === 1 && !this.keepHeaders && this.responseBody === null;
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
      const handler = new ResponseRelay(ctx, req, res, record, pacer, this.keepHeaders, this.responseBody, balanced, group ? undefined : resolution);
      if (linked && backend.type === 'direct') {
        const timeouts = network.timeouts;
        const request = { backend, target, refusePrivate, method, path: route.path, headers, connectTimeoutMs: timeouts.connectMs, readTimeoutMs: timeouts.readMs, idleTimeoutMs: network.keepalive.maxIdleTimeMs, maxHeaderSize: network.maxHeaderSize };
        return sendOnLink(req.socket, request, handler);
      }
      if (body && awaitsContinue(req)) {
        const open = (): Promise<Socket> => backend.openOrigin(target.scheme, target, { connectTimeoutMs: network.timeouts.connectMs, refusePrivate });
        return forwardAwaitingContinue({ open, method, path: route.path, headers, body, res, readTimeoutMs: network.timeouts.readMs, maxHeaderSize: network.maxHeaderSize }, handler);
      }
      route.dispatcher.dispatch({ origin: route.origin, path: route.path, method, headers, body }, handler as unknown as Dispatcher.DispatchHandler);
    };
    send(resolution.backend, false);
  }
}

/** The Host field for a target: its authority, without the scheme's default port (RFC 9110 section 7.2). */
function hostField(target: HttpTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === (target.scheme === 'https:' ? 443 : 80) ? host : `${host}:${target.port}`;
}
