import type { Socket } from 'node:net';
import type { Backend } from '../backends/backend.js';
import { ChunkedBody } from '../protocol/chunked-body.js';
import { isInvalid, parseResponseHead, type ResponseHead } from '../protocol/response-head.js';
import { coded, Exchange, keyOf, type LinkRequest } from './origin-exchange.js';
import { park, unpark } from './parked-origins.js';
import type { AnswerRelay } from './expect-continue.js';

const LINK = Symbol('origin link');

/** A link's listeners on its connection. */
interface Listeners {
  data(chunk: Buffer): void;
  end(): void;
  close(): void;
  error(error: Error): void;
  timeout(): void;
}
type LinkedSocket = Socket & { [LINK]?: OriginLink };

/**
 * Sends `request` on the origin connection that `client` (a client's HTTP/1.x connection) holds
 * for the target, taking a parked one (parked-origins.ts) or opening one through the backend
 * when it holds none for it, and relays the answer to `relay`. One connection per client
 * connection, as a client waits for each answer before its next request (or pipelines, and gets
 * its answers in order): no pool to look up per request, and undici's parser and request objects
 * are not involved.
 */
export function sendOnLink(client: Socket, request: LinkRequest, relay: AnswerRelay): void {
  let link = (client as LinkedSocket)[LINK];
  if (!link) {
    link = new OriginLink();
    (client as LinkedSocket)[LINK] = link;
    client.once('close', () => link!.close());
  }
  link.send(request, relay);
}

/**
 * The origin connection of one client connection, the exchange on it, and the requests a client
 * pipelined behind it (node:http hands them over as it parses them; their answers go out in order).
 */
class OriginLink {
  private socket: Socket | null = null;
  /** The listeners this link put on `socket`, taken off when it goes to the park. */
  private listeners: Listeners | null = null;
  private key = '';
  private backend: Backend | null = null;
  private exchange: Exchange | null = null;
  private readonly queue: Exchange[] = [];
  private closed = false;

  send(request: LinkRequest, relay: AnswerRelay): void {
    const exchange = new Exchange(request, relay);
    relay.onConnect((error) => this.abort(exchange, error));
    if (exchange.finished) return;
    if (this.exchange !== null) this.queue.push(exchange);
    else this.start(exchange);
  }

  /** The client connection closed: its origin connection goes to the park if idle, else is closed. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    if (this.exchange === null) this.release();
    else this.forget();
  }

  private start(exchange: Exchange): void {
    const { request } = exchange;
    const key = keyOf(request);
    const reuse = this.socket !== null && this.key === key && this.backend === request.backend;
    // Before this exchange is the link's: the connection held now is idle.
    if (!reuse) this.release();
    this.exchange = exchange;
    const parked = reuse ? null : unpark(request.backend, key);
    if (parked) {
      this.key = key;
      this.backend = request.backend;
      this.attach(parked);
    }
    exchange.reused = reuse || parked !== null;
    if (exchange.reused) return this.write(exchange);
    this.open(exchange);
  }

  /** Starts the next pipelined request that is still wanted. */
  private next(): void {
    while (this.exchange === null && this.queue.length > 0) {
      const exchange = this.queue.shift()!;
      if (!exchange.finished) this.start(exchange);
    }
  }

  /** Opens a connection for `exchange` (none is held now). */
  private open(exchange: Exchange): void {
    const { request } = exchange;
    this.key = keyOf(request);
    this.backend = request.backend;
    request.backend.openOrigin('http:', request.target, { connectTimeoutMs: request.connectTimeoutMs, refusePrivate: request.refusePrivate }).then(
      (socket) => {
        if (exchange.finished || this.closed || this.exchange !== exchange) return void socket.destroy();
        this.attach(socket);
        this.write(exchange);
      },
      (error: Error) => this.fail(exchange, error),
    );
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    const listeners: Listeners = {
      data: (chunk: Buffer) => this.read(socket, chunk),
      end: () => this.ended(socket),
      close: () => this.ended(socket),
      error: (error: Error) => this.broke(socket, error),
      timeout: () => this.silent(socket),
    };
    this.listeners = listeners;
    socket.on('data', listeners.data).on('end', listeners.end).on('close', listeners.close).on('error', listeners.error).on('timeout', listeners.timeout);
  }

  /** Lets the idle connection go to the park (parked-origins.ts) for another client connection, or closes it if it is not idle. */
  private release(): void {
    const { socket, listeners, backend } = this;
    if (!socket || !listeners || !backend || this.exchange !== null || socket.destroyed) return this.forget();
    socket.off('data', listeners.data).off('end', listeners.end).off('close', listeners.close).off('error', listeners.error).off('timeout', listeners.timeout);
    park(backend, this.key, socket);
    this.socket = null;
    this.listeners = null;
    this.key = '';
    this.backend = null;
  }

  private write(exchange: Exchange): void {
    const { method, path, headers, readTimeoutMs } = exchange.request;
    let head = `${method} ${path} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const socket = this.socket!;
    socket.setTimeout(readTimeoutMs);
    socket.write(`${head}\r\n`, 'latin1');
  }

  private read(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    const exchange = this.exchange;
    // Bytes from an origin that was asked nothing: it is out of step, so it is let go.
    if (!exchange) return this.forget();
    exchange.answered = true;
    let body: Buffer | null = chunk;
    if (exchange.head === null) body = this.readHead(exchange, chunk);
    if (body !== null && !exchange.finished) this.readBody(exchange, socket, body);
  }

  /** Reads heads (1xx ones relayed on the way) until the final one; returns the bytes after it, or null while there are none to read on. */
  private readHead(exchange: Exchange, chunk: Buffer): Buffer | null {
    let bytes = exchange.pending === null ? chunk : Buffer.concat([exchange.pending, chunk]);
    const { method, maxHeaderSize } = exchange.request;
    for (;;) {
      const parsed = parseResponseHead(bytes, method, maxHeaderSize);
      if (parsed === null) {
        exchange.pending = bytes;
        return null;
      }
      if (isInvalid(parsed)) {
        this.fail(exchange, coded(parsed.invalid, parsed.reason));
        return null;
      }
      bytes = bytes.subarray(parsed.length);
      if (parsed.status >= 200) return this.answer(exchange, parsed, bytes);
      if (parsed.status === 101) {
        this.fail(exchange, coded('HPE_INVALID_STATUS', '101 to a request without Upgrade'));
        return null;
      }
      exchange.relay.interim(parsed.status, parsed.statusText, parsed.headers);
      if (exchange.finished) return null;
    }
  }

  /** Relays the final head; returns the body bytes that came with it (null when there is no body). */
  private answer(exchange: Exchange, head: ResponseHead, rest: Buffer): Buffer | null {
    exchange.pending = null;
    exchange.head = head;
    if (head.framing.kind === 'length') exchange.remaining = head.framing.length;
    if (head.framing.kind === 'chunked') exchange.chunked = new ChunkedBody();
    const socket = this.socket!;
    exchange.relay.answer(head.status, head.statusText, head.headers, () => {
      if (this.socket !== socket || exchange.finished) return;
      socket.setTimeout(exchange.request.readTimeoutMs);
      socket.resume();
    });
    if (exchange.finished) return null;
    if (head.framing.kind === 'none' || (head.framing.kind === 'length' && head.framing.length === 0)) {
      exchange.spoilt = rest.length > 0;
      this.complete(exchange);
      return null;
    }
    return rest;
  }

  private readBody(exchange: Exchange, socket: Socket, bytes: Buffer): void {
    if (bytes.length === 0) return;
    let flowing = true;
    switch (exchange.head!.framing.kind) {
      case 'length': {
        const take = Math.min(exchange.remaining, bytes.length);
        exchange.remaining -= take;
        flowing = exchange.relay.onData(take === bytes.length ? bytes : bytes.subarray(0, take));
        if (exchange.finished) return;
        if (exchange.remaining === 0) {
          exchange.spoilt = take < bytes.length;
          return this.complete(exchange);
        }
        break;
      }
      case 'chunked': {
        let end: number;
        try {
          end = exchange.chunked!.feed(bytes, 0, (data) => {
            if (!exchange.finished && !exchange.relay.onData(data)) flowing = false;
          });
        } catch (error) {
          return this.fail(exchange, error as Error);
        }
        if (exchange.finished) return;
        if (end >= 0) {
          exchange.spoilt = end < bytes.length;
          return this.complete(exchange);
        }
        break;
      }
      default:
        flowing = exchange.relay.onData(bytes);
    }
    // The client reads slower than the origin sends: its wait is not the origin's silence.
    if (!flowing && !exchange.finished) {
      socket.setTimeout(0);
      socket.pause();
    }
  }

  private complete(exchange: Exchange): void {
    exchange.finished = true;
    this.exchange = null;
    if (!exchange.head!.reusable || exchange.spoilt) this.forget();
    else this.socket?.setTimeout(exchange.request.idleTimeoutMs);
    exchange.relay.onComplete();
    this.next();
  }

  /** The origin closed its side or the connection: the end of a body that runs until close, else a failure. */
  private ended(socket: Socket): void {
    if (socket !== this.socket) return;
    const exchange = this.exchange;
    if (exchange?.head?.framing.kind === 'close') return this.complete(exchange);
    this.forget();
    if (exchange) this.fail(exchange, coded('UND_ERR_SOCKET', 'other side closed'));
  }

  private broke(socket: Socket, error: Error): void {
    if (socket !== this.socket) return;
    const exchange = this.exchange;
    this.forget();
    if (exchange) this.fail(exchange, error);
  }

  /** The origin said nothing for network.timeouts.read during an exchange, or the connection sat idle for its idle time. */
  private silent(socket: Socket): void {
    if (socket !== this.socket) return;
    const exchange = this.exchange;
    this.forget();
    if (!exchange) return;
    const code = exchange.head === null ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT';
    this.fail(exchange, coded(code, 'no response from the origin within network.timeouts.read'));
  }

  /**
   * Ends an exchange with `error`, unless it ended already. A request on a reused connection that
   * the origin closed before answering any of it (it let the idle connection go as the request
   * went out) is sent once more on a new connection: it has no body and its method is safe.
   */
  private fail(exchange: Exchange, error: Error): void {
    if (exchange.finished) return;
    this.forget();
    const silent = (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
    if (exchange.reused && !exchange.answered && !silent && !this.closed) {
      exchange.reused = false;
      this.exchange = exchange;
      this.open(exchange);
      return;
    }
    exchange.finished = true;
    if (this.exchange === exchange) this.exchange = null;
    exchange.relay.onError(error);
    this.next();
  }

  /**
   * Ends an exchange from the relay's side (its client went away, a reload retired its backend, an
   * operator closed it): the answer is not read on, and the relay hears `error`, as undici tells it.
   */
  private abort(exchange: Exchange, error = new Error('aborted')): void {
    if (exchange.finished) return;
    exchange.finished = true;
    if (this.exchange === exchange) {
      this.exchange = null;
      this.forget();
    }
    exchange.relay.onError(error);
    this.next();
  }

  /** Lets the connection go (destroyed: an exchange on it is over). */
  private forget(): void {
    const socket = this.socket;
    this.socket = null;
    this.listeners = null;
    this.key = '';
    this.backend = null;
    socket?.destroy();
  }
}
