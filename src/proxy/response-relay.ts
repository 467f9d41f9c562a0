import type { IncomingMessage, ServerResponse } from 'node:http';
import { backendFault } from '../health/backend-fault.js';
import { holdAfterWrite, type Pacer } from '../limits/bandwidth.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { answerResponse } from './admission/answers.js';
import { dialRefusal } from './admission/dial-refusal.js';
import type { BodyCapture } from './body-capture.js';
import { stripHopByHop } from './hop-by-hop.js';
import type { ProxyContext } from './proxy-context.js';
import { timeConnection } from './request-timing.js';
import type { Resolution } from './runtime.js';

/** Undici's word for a body that did not come, which a 204 or 304 with Content-Length never has. */
const LENGTH_MISMATCH = 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
const DROP_ON_RESPONSE = new Set(['via']);

/** Methods a reset on a reused upstream connection may be retried for (RFC 9110 section 9.2.2). */
export const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/** How a reused upstream connection closed under a request shows up: undici's own code or the socket's errno. */
export const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** ServerResponse's raw write, the one Node uses for writeContinue and writeEarlyHints. */
interface RawWritable {
  _writeRaw(data: string, encoding: BufferEncoding): boolean;
}

/** A response that takes 1xx answers as fields, not raw bytes (an intercepted HTTP/2 stream). */
interface InterimWritable {
  writeInterim(status: number, headers: string[]): void;
}

/** What a request to a balanced rule does besides relaying: feed the passive check, and retry once elsewhere. */
export interface Balanced {
  answered(): void;
  /** Takes over a failure before any answer (true) by sending the request through another member. */
  retry(error: Error): boolean;
}

/**
 * Streams an upstream response into the client's ServerResponse. Uses undici's raw-header
 * handler interface, which skips header parsing we would only undo, and maps the write
 * side's backpressure onto undici's pause/resume.
 */
export class ResponseRelay {
  private abort: ((error?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private done = false;
  /** The answer is a 204 or 304: it has no body, whatever its Content-Length says. */
  private bodiless = false;
  /** When the request was handed to the backend's pool, then when its answer's head came. */
  private readonly sentAt = Date.now();
  private headAt = 0;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly record: ConnectionRecord,
    private readonly pacer: Pacer | null,
    private readonly keepHeaders: boolean,
    private readonly body: BodyCapture | null,
    private readonly balanced?: Balanced,
    /** A rule's only backend: its outcomes are the backend's passive health. */
    private readonly fixed?: Extract<Resolution, { ok: true }>,
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
    // Requests the debugger looks into (headers or bodies kept, or decrypted) learn how their connection was set up.
    if (this.keepHeaders || this.body !== null || this.record.tls?.decrypted) timeConnection(abort, this.record);
    if (this.res.destroyed) abort(new Error('client closed'));
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const headers: string[] = new Array(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) headers[i] = rawHeaders[i].toString('latin1');
    if (status < 200) this.interim(status, statusText, headers);
    // The list is this call's own: stripped in place, no second copy per response.
    else this.relayHead(status, statusText, stripHopByHop(headers, DROP_ON_RESPONSE, headers), resume);
    return true;
  }

  /** Relays the final answer's head; `resume` restarts a body paused by backpressure. */
  answer(status: number, statusText: string, headers: string[], resume: () => void): void {
    this.relayHead(status, statusText, stripHopByHop(headers, DROP_ON_RESPONSE), resume);
  }

  /** Relays a final head already stripped of hop-by-hop fields (`kept` gets Via added). */
  private relayHead(status: number, statusText: string, kept: string[], resume: () => void): void {
    this.bodiless = status === 204 || status === 304;
    this.headAt = Date.now();
    // A connection opened for this request: its set-up is not waiting for the answer.
    const { dnsMs = 0, connectMs = 0, tlsMs = 0 } = this.record;
    this.record.waitMs = Math.max(0, this.headAt - this.sentAt - dnsMs - connectMs - tlsMs);
    if (this.balanced) this.balanced.answered();
    else this.fixed?.passive?.report(this.fixed.backend.name, true);
    this.resume = resume;
    kept.push('via', `1.1 ${this.ctx.viaToken}`);
    this.record.status = status;
    if (this.keepHeaders) this.record.responseHeaders = kept;
    this.res.writeHead(status, statusText, kept);
  }

  /** Relays a 1xx answer (103 Early Hints and others, RFC 9110 15.2) ahead of the final one; never to an HTTP/1.0 client. */
  interim(status: number, statusText: string, headers: string[]): void {
    if (this.req.httpVersion === '1.0' || this.res.headersSent || status === 101) return;
    const kept = stripHopByHop(headers, DROP_ON_RESPONSE);
    if ('writeInterim' in this.res) return (this.res as unknown as InterimWritable).writeInterim(status, kept);
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
    if (this.headAt > 0 && this.record.receiveMs === undefined) this.record.receiveMs = Date.now() - this.headAt;
    this.done = true;
    this.res.end();
  }

  onError(error: Error): void {
    // A 204 or 304 that names the length of the representation it leaves out (RFC 9110 8.6) is complete as it is.
    if (this.bodiless && (error as { code?: string }).code === LENGTH_MISMATCH) return this.onComplete();
    this.done = true;
    // The client went away first (its connection closed): that, not what the origin did since, is why the answer ended.
    if (this.res.destroyed && this.res.headersSent) {
      this.record.error = 'client-closed';
      return;
    }
    if (this.res.headersSent) {
      this.record.error = (error as { code?: string }).code ?? 'upstream-error';
      this.res.destroy();
      return;
    }
    if (this.res.destroyed || this.req.destroyed) {
      this.record.error = 'client-closed';
      return;
    }
    const fixed = this.fixed;
    if (fixed?.passive && backendFault(error, fixed.backend.type)) fixed.passive.report(fixed.backend.name, false, error.message);
    if (this.balanced?.retry(error)) return;
    answerResponse(this.res, this.record, dialRefusal(this.ctx, this.record, error));
  }
}
