import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, ProxyError } from '../errors.js';

/** A matched request: path parameters, query and the JSON body (already read). */
export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  raw: IncomingMessage;
}

/** A route handler: returns the JSON answer, or takes over the response itself (streams) and returns undefined. */
export type ApiHandler = (request: ApiRequest, response: ServerResponse) => Promise<unknown> | unknown;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: ApiHandler;
}

const MAX_BODY = 1024 * 1024;

/** HTTP+JSON over an owner-only Unix socket: the daemon's control plane. */
export class ControlServer {
  private readonly routes: Route[] = [];
  private server: Server | null = null;

  constructor(private readonly socketPath: string) {}

  /** Registers a handler for `METHOD /api/path/:param`. */
  route(method: string, path: string, handler: ApiHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_m, key: string) => (keys.push(key), '([^/]+)'))}$`);
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  /**
   * Listens on the socket: its directory is created 0700 and the socket made 0600 before any
   * request is served. A stale socket (nobody answers) is replaced; a live one is never taken.
   */
  async listen(): Promise<void> {
    const dir = dirname(this.socketPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    if (existsSync(this.socketPath)) {
      if (await socketAnswers(this.socketPath)) {
        throw new ProxyError('ALREADY_RUNNING', `a daemon is already listening on ${this.socketPath}`);
      }
      unlinkSync(this.socketPath);
    }
    const server = createServer((req, res) => void this.dispatch(req, res));
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => resolve());
      });
    } finally {
      process.umask(previous);
    }
    chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  /** Stops listening, ends open streams and removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Everything read from the request is inside: a malformed path is a 400, never a crash of the daemon.
    try {
      const url = new URL(req.url ?? '/', 'http://control');
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        return send(res, candidates.length > 0 ? 405 : 404, { error: { code: candidates.length > 0 ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', message: `${req.method} ${url.pathname} is not part of the control API` } });
      }
      const match = route.pattern.exec(url.pathname)!;
      const params = Object.fromEntries(route.keys.map((key, i) => [key, decodeSegment(match[i + 1])]));
      const body = await readJson(req);
      const result = await route.handler({ params, query: url.searchParams, body, raw: req }, res);
      if (result !== undefined && !res.headersSent) send(res, 200, result);
    } catch (error) {
      if (res.headersSent) return void res.destroy();
      send(res, statusOf(error), errorBody(error));
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

function statusOf(error: unknown): number {
  if (error instanceof ConfigError || error instanceof z.ZodError) return 400;
  if (error instanceof ProxyError) return error.code === 'NOT_FOUND' ? 404 : error.code === 'CONFLICT' ? 409 : 400;
  return 500;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
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

/** Whether something accepts connections on a Unix socket (a live daemon, not a stale file). */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
