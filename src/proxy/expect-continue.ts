import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Node's own test for an expectation of 100 Continue: such requests reach the proxy through 'checkContinue', with no 100 sent yet. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * How long the proxy waits for the origin's 100 (or final answer) before it sends 100 itself and
 * forwards the body (RFC 9110 10.1.1): an HTTP/1.0 origin never answers 100, and clients such as
 * curl give up waiting after about a second anyway.
 */
export const CONTINUE_WAIT_MS = 1000;

/** Whether the client holds its body back until it hears 100 Continue (an HTTP/1.1 or HTTP/2 request with `Expect: 100-continue`). */
export function awaitsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return expect !== undefined && req.httpVersion !== '1.0' && CONTINUE.test(expect);
}

/** What relays the origin's answers to the client (the plain-HTTP path's ResponseRelay). */
export interface AnswerRelay {
  onConnect(abort: (error?: Error) => void): void;
  interim(status: number, statusText: string, headers: string[]): void;
  answer(status: number, statusText: string, headers: string[], resume: () => void): void;
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(error: Error): void;
}

/** One request that waits for 100 Continue, on a connection of its own. */
export interface ContinueExchange {
  /** Opens the connection the request goes on (Backend.openOrigin). */
  open(): Promise<Socket>;
  method: string;
  /** The request target as the next hop wants it (origin-form, or absolute-form to an upstream proxy). */
  path: string;
  /** Request headers as a flat name/value list, without Expect or Connection (both are added here). */
  headers: string[];
  body: Readable;
  res: ServerResponse;
  readTimeoutMs: number;
  maxHeaderSize: number;
}

/** Said when the origin is silent for network.timeouts.read; coded as the pooled path codes the same silence, so both are told alike (http_response_timeout). */
function responseTimeout(): Error {
  return Object.assign(new Error('no response from the origin within network.timeouts.read'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
}

/**
 * Forwards a request whose client waits for 100 Continue (RFC 9110 10.1.1) with node:http, which
 * (unlike the pooled client) sends the expectation on: the origin's 100 reaches the client before
 * any body is forwarded, and a final answer instead (417, 401, 413...) reaches it with the body
 * never sent. Without an answer within CONTINUE_WAIT_MS the proxy says 100 itself and sends the body.
 */
export function forwardAwaitingContinue(exchange: ContinueExchange, relay: AnswerRelay): void {
  const { res, body } = exchange;
  let abortedWith: Error | null = null;
  let abortUpstream: ((error: Error) => void) | null = null;
  relay.onConnect((error) => {
    abortedWith = error ?? new Error('aborted');
    abortUpstream?.(abortedWith);
  });
  exchange.open().then(
    (socket) => {
      if (abortedWith) return void socket.destroy();
      const request = httpRequest({
        createConnection: () => socket,
        method: exchange.method,
        path: exchange.path,
        headers: [...exchange.headers, 'expect', '100-continue', 'connection', 'close'],
        setHost: false,
        maxHeaderSize: exchange.maxHeaderSize,
      });
      let finished = false;
      let sending = false;
      const send = (): void => {
        clearTimeout(wait);
        if (sending) return;
        sending = true;
        if (!res.headersSent) res.writeContinue();
        body.pipe(request);
      };
      const wait = setTimeout(send, CONTINUE_WAIT_MS);
      abortUpstream = (error) => {
        clearTimeout(wait);
        request.destroy(error);
      };
      request.on('information', (info) => {
        if (info.statusCode === 100) send();
        else relay.interim(info.statusCode, info.statusMessage, info.rawHeaders);
      });
      request.on('response', (response) => {
        clearTimeout(wait);
        relay.answer(response.statusCode ?? 502, response.statusMessage ?? '', response.rawHeaders, () => response.resume());
        response.on('data', (chunk: Buffer) => {
          if (!relay.onData(chunk)) response.pause();
        });
        response.on('error', (error) => {
          if (!finished) relay.onError(error);
        });
        response.on('end', () => {
          finished = true;
          relay.onComplete();
          // The connection is this request's alone; a body the origin did not wait for is not sent on.
          body.unpipe(request);
          request.destroy();
        });
      });
      request.setTimeout(exchange.readTimeoutMs, () => request.destroy(responseTimeout()));
      request.on('error', (error) => {
        clearTimeout(wait);
        body.unpipe(request);
        if (!finished && !abortedWith) relay.onError(error);
      });
      request.flushHeaders();
    },
    (error: Error) => {
      if (!abortedWith) relay.onError(error);
    },
  );
}
