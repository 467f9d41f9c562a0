import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ConfigError, ProxyError } from '../errors.js';
import { API, type AnswerIn, type ApiRole, type ApiRoute, type BodyOf, type QueryOf, type RouteName, type RouteParams } from './api.js';

/** Who calls: a local user on the Unix socket (every right), or the holder of an API key on the management listener. */
export type Caller = { kind: 'local'; role: 'admin'; uid: number | null } | { kind: 'key'; role: ApiRole; keyId: string; address: string };

/** A matched request: path parameters, the validated query and body, and who sent it. */
export interface ApiRequest<N extends RouteName> {
  params: RouteParams<N>;
  query: QueryOf<N>;
  body: BodyOf<N>;
  caller: Caller;
  raw: IncomingMessage;
}

/** A route handler: returns the JSON answer, or (text and stream routes) writes the response itself. */
export type ApiHandler<N extends RouteName> = (request: ApiRequest<N>, response: ServerResponse) => Promise<AnswerIn<N>> | AnswerIn<N>;

interface Bound {
  name: RouteName;
  spec: ApiRoute;
  pattern: RegExp;
  keys: string[];
  handler: ApiHandler<RouteName>;
}

/** What a dispatch found, for the guard and the audit trail. */
export interface Dispatched {
  name: RouteName | null;
  spec: ApiRoute | null;
  params: Record<string, string>;
}

/** Checks a call before its handler runs (management listener: roles); throws to refuse. */
export type Guard = (found: Dispatched, caller: Caller) => void;

/** What the router reports after each call (status and answer, the config version before it, the request and its validated body). */
export type CallObserver = (found: Dispatched, caller: Caller, status: number, body: unknown, versionBefore: string, req: IncomingMessage, requestBody: unknown) => void;

const MAX_BODY = 1024 * 1024;

/** The control API's dispatcher: every route of the table bound to the daemon's handler for it. */
export class ControlRouter {
  private readonly bound: Bound[] = [];
  /** Hears every call as it is answered, just before the answer goes out, whatever its transport (the audit trail keeps changes and refusals). */
  observer: CallObserver | null = null;
  /** The config version now, for the observer's before and after. */
  version: () => string = () => '';

  /** Binds the handler of a route of the table. */
  serve<N extends RouteName>(name: N, handler: ApiHandler<N>): this {
    const spec: ApiRoute = API[name];
    const keys: string[] = [];
    const pattern = new RegExp(`^${spec.path.replace(/:(\w+)/g, (_m, key: string) => (keys.push(key), '([^/]+)'))}$`);
    this.bound.push({ name, spec, pattern, keys, handler: handler as unknown as ApiHandler<RouteName> });
    // Table order decides between overlapping paths, whatever order handlers were bound in.
    const order = Object.keys(API);
    this.bound.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return this;
  }

  /** Routes of the table with no handler (a daemon must have none). */
  unbound(): RouteName[] {
    return (Object.keys(API) as RouteName[]).filter((name) => !this.bound.some((b) => b.name === name));
  }

  /** The route a method and path name, with its parameters (null when none matches). */
  find(method: string, pathname: string): Dispatched & { pathKnown: boolean } {
    const candidates = this.bound.filter((r) => r.pattern.test(pathname));
    const found = candidates.find((r) => r.spec.method === method);
    if (!found) return { name: null, spec: null, params: {}, pathKnown: candidates.length > 0 };
    const match = found.pattern.exec(pathname)!;
    return { name: found.name, spec: found.spec, params: Object.fromEntries(found.keys.map((key, i) => [key, decodeSegment(match[i + 1])])), pathKnown: true };
  }

  /** Serves one request for a caller; `guard` may refuse it before anything is read. */
  async dispatch(req: IncomingMessage, res: ServerResponse, caller: Caller, guard?: Guard): Promise<void> {
    // Everything read from the request line is checked: a malformed path is a 400, never a crash of the daemon.
    let url: URL;
    let found: ReturnType<ControlRouter['find']>;
    try {
      url = new URL(req.url ?? '/', 'http://control');
      found = this.find(req.method ?? 'GET', url.pathname);
    } catch (error) {
      return send(res, statusOf(error), errorBody(error));
    }
    if (!found.name) {
      const body = { error: { code: found.pathKnown ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', message: `${req.method} ${url.pathname} is not part of the control API` } };
      return send(res, found.pathKnown ? 405 : 404, body);
    }
    const bound = this.bound.find((b) => b.name === found.name)!;
    const spec = bound.spec;
    const before = this.version();
    let body: unknown;
    try {
      guard?.(found, caller);
      const raw = await readJson(req);
      body = spec.body ? spec.body.parse(raw ?? {}) : undefined;
      const query = spec.query ? spec.query.parse(Object.fromEntries(url.searchParams)) : {};
      const result = await bound.handler({ params: found.params, query, body, caller, raw: req } as never, res);
      if (result !== undefined && !res.headersSent) {
        // Audited before the caller hears the answer: whoever reads the trail after a change finds it there.
        this.observer?.(found, caller, 200, result, before, req, body);
        send(res, 200, result);
      }
    } catch (error) {
      if (res.headersSent) return void res.destroy();
      const status = statusOf(error);
      const answer = errorBody(error);
      this.observer?.(found, caller, status, answer, before, req, body);
      send(res, status, answer);
    }
  }
}

/** A path segment with its percent-escapes decoded; a broken escape (`%ZZ`) is the client's error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ProxyError('BAD_REQUEST', `"${segment}" in the path is not valid percent-encoding`);
  }
}

/** The JSON error answer for any error. */
export function errorBody(error: unknown): { error: { code: string; message: string; problems?: string[] } } {
  if (error instanceof ConfigError) return { error: { code: error.code, message: error.message, problems: error.problems } };
  if (error instanceof ProxyError) return { error: { code: error.code, message: error.message } };
  if (error instanceof z.ZodError) {
    const problems = error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    return { error: { code: 'BAD_REQUEST', message: problems[0], problems } };
  }
  return { error: { code: 'INTERNAL', message: (error as Error)?.message ?? String(error) } };
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = { NOT_FOUND: 404, CONFLICT: 409, UNAUTHORIZED: 401, FORBIDDEN: 403, TOO_MANY_REQUESTS: 429 };

function statusOf(error: unknown): number {
  if (error instanceof ConfigError || error instanceof z.ZodError) return 400;
  if (error instanceof ProxyError) return STATUS_BY_CODE[error.code] ?? 400;
  return 500;
}

/** Writes a JSON answer. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ProxyError('BAD_REQUEST', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProxyError('BAD_REQUEST', 'request body is not valid JSON');
  }
}
