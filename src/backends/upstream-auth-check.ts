import type { Dispatcher } from 'undici';
import { upstreamAuthError } from './http-connect.js';

/** The raw-header handler methods undici calls (the interface the forwarding relay implements). */
type RawHandler = Required<Pick<Dispatcher.DispatchHandler, 'onConnect' | 'onHeaders' | 'onData' | 'onComplete' | 'onError'>>;

/**
 * Passes a request's events through, except a 407 answer: that is the upstream refusing this
 * backend's credentials, which the end client cannot fix. It fails the request like a refused
 * CONNECT does (502 naming the reason) rather than reaching the client as a 407, which would
 * read as its own proxy asking it for credentials.
 */
class AuthCheckedHandler implements RawHandler {
  private abort: ((error?: Error) => void) | null = null;

  constructor(
    private readonly inner: RawHandler,
    private readonly upstream: string,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    this.inner.onConnect(abort);
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (status !== 407) return this.inner.onHeaders(status, headers, resume, statusText);
    this.abort?.(upstreamAuthError(this.upstream));
    return false;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.inner.onComplete(trailers);
  }

  onError(error: Error): void {
    this.inner.onError(error);
  }
}

/** The pool of an upstream proxy as plain-HTTP forwarding uses it: its 407 answers become `upstream-auth` failures. */
export function checkUpstreamAuth(pool: Dispatcher, upstream: string): Dispatcher {
  const dispatch = (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean =>
    pool.dispatch(options, new AuthCheckedHandler(handler as RawHandler, upstream) as Dispatcher.DispatchHandler);
  return new Proxy(pool, { get: (target, key) => (key === 'dispatch' ? dispatch : Reflect.get(target, key)) });
}
