import type { Backend, Target } from '../backends/backend.js';
import type { ChunkedBody } from '../protocol/chunked-body.js';
import type { ResponseHead } from '../protocol/response-head.js';
import type { AnswerRelay } from './expect-continue.js';

/** A bodiless GET or HEAD to send on a client connection's own origin connection. */
export interface LinkRequest {
  backend: Backend;
  target: Target;
  refusePrivate: boolean;
  method: string;
  /** Origin-form request target. */
  path: string;
  /** Request fields as a flat name/value list (Host included, no hop-by-hop fields). */
  headers: string[];
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** How long a connection waits idle for the client's next request (network.keepalive.max_idle_time, as for the pool). */
  idleTimeoutMs: number;
  maxHeaderSize: number;
}

/** What a held connection serves: a request for another target, or with the other private-address rule, gets one of its own. */
export function keyOf(request: LinkRequest): string {
  return `${request.refusePrivate ? 'p' : 'o'}${request.target.port} ${request.target.host}`;
}

/** An error coded as undici codes the same fault, so the refusal table tells both paths alike. */
export function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** One request on an origin link (origin-link.ts), and its answer as it is read. */
export class Exchange {
  /** Head bytes read so far (the head may come in several reads). */
  pending: Buffer | null = null;
  head: ResponseHead | null = null;
  remaining = 0;
  chunked: ChunkedBody | null = null;
  /** Sent on a connection an earlier request used. */
  reused = false;
  /** Any byte of the answer came: a failure now is not a stale connection's. */
  answered = false;
  finished = false;
  /** Bytes came after the answer's end: the connection cannot carry another. */
  spoilt = false;

  constructor(
    readonly request: LinkRequest,
    readonly relay: AnswerRelay,
  ) {}
}
