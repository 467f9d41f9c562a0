import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ConfigError, ProxyError } from '../errors.js';
import { socketAnswers, tcpAnswers } from './control-server.js';
import { roleDefaults, type Role } from '../role.js';
import { API, routePath, type AnswerOf, type CallArgs, type RouteName } from './api.js';
import type { StreamLine } from './answers/records.js';

/** Where the daemon's control API is: its Unix socket, or a management listener with an API key. */
export type ControlTarget = { kind: 'socket'; path: string } | { kind: 'remote'; url: URL; apiKey: string; ca?: Buffer };

/** The error a command gets when no daemon answers. */
export class NoDaemonError extends ProxyError {
  constructor(role: Role, where: string) {
    super('NO_DAEMON', `no ${roleDefaults(role).bin} daemon is running (no answer on ${where})`);
  }
}

/** A typed client of the control API: every call names a route of the table and gets its answer's type. */
export class ControlClient {
  constructor(
    readonly target: ControlTarget,
    private readonly role: Role,
  ) {}

  /** The socket path or URL, for messages. */
  get where(): string {
    return this.target.kind === 'socket' ? this.target.path : this.target.url.origin;
  }

  /** Whether anything accepts connections where the daemon listens (a stopping daemon stops answering). */
  answers(): Promise<boolean> {
    if (this.target.kind === 'socket') return socketAnswers(this.target.path);
    const { hostname, port, protocol } = this.target.url;
    return tcpAnswers(hostname.replace(/^\[|\]$/g, ''), Number(port || (protocol === 'https:' ? 443 : 80)));
  }

  /** Calls a route with its parameters, query and body, and returns its parsed answer; API errors become ProxyError/ConfigError. */
  call<N extends RouteName>(name: N, args: CallArgs<N> = {} as CallArgs<N>, timeoutMs = 60_000): Promise<AnswerOf<N>> {
    const spec = API[name];
    // An option left out is no parameter at all (not the text "undefined").
    const fields = Object.entries((args.query ?? {}) as Record<string, string | undefined>).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const query = fields.length === 0 ? '' : `?${new URLSearchParams(fields)}`;
    const path = `${routePath(spec, args.params as Record<string, string> | undefined)}${query}`;
    const payload = args.body === undefined ? undefined : JSON.stringify(args.body);
    return new Promise((resolve, reject) => {
      const req = this.open(spec.method, path, payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }, timeoutMs, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (spec.answer === 'text' && (res.statusCode ?? 500) < 400) return resolve(text as AnswerOf<N>);
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new ProxyError('BAD_ANSWER', `the daemon answered ${res.statusCode} with something that is not JSON`));
          }
          if ((res.statusCode ?? 500) >= 400) {
            const { code, message, problems } = (parsed as { error: { code: string; message: string; problems?: string[] } }).error;
            return reject(code === 'CONFIG_INVALID' ? new ConfigError(message, problems) : new ProxyError(code, message));
          }
          resolve(parsed as AnswerOf<N>);
        });
      });
      req.on('timeout', () => req.destroy(new ProxyError('TIMEOUT', `the daemon did not answer ${spec.method} ${path} within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => reject(this.failure(error)));
      req.end(payload);
    });
  }

  /** Follows a stream route, calling `onEvent` per line, until `signal` aborts or the daemon goes away; `onOpen` once the daemon answers. */
  follow(name: 'events' | 'debugTrafficStream', onEvent: (event: StreamLine) => void, signal: AbortSignal, onOpen?: () => void, query: Record<string, string> = {}): Promise<void> {
    const search = new URLSearchParams(query).toString();
    return new Promise((resolve, reject) => {
      const req = this.open('GET', `${API[name].path}${search ? `?${search}` : ''}`, {}, undefined, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => reject(new ProxyError(errorCode(text), errorMessage(text, res.statusCode))));
          return;
        }
        onOpen?.();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) !== -1) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.trim() !== '') onEvent(JSON.parse(line) as StreamLine);
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      }, signal);
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) resolve();
        else reject(this.failure(error));
      });
      req.end();
    });
  }

  private open(method: string, path: string, headers: Record<string, string>, timeoutMs: number | undefined, onResponse: (res: IncomingMessage) => void, signal?: AbortSignal): ClientRequest {
    const common: RequestOptions = { method, path, headers, timeout: timeoutMs, signal };
    if (this.target.kind === 'socket') return httpRequest({ ...common, socketPath: this.target.path }, onResponse);
    const { url, apiKey, ca } = this.target;
    const remote: RequestOptions = { ...common, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (url.protocol === 'https:' ? 443 : 80), headers: { ...headers, authorization: `Bearer ${apiKey}` } };
    return url.protocol === 'https:' ? httpsRequest({ ...remote, ...(ca ? { ca } : {}) }, onResponse) : httpRequest(remote, onResponse);
  }

  private failure(error: NodeJS.ErrnoException): Error {
    if (error instanceof ProxyError) return error;
    // A remote daemon that does not answer is no reason to fall back to local files: not a NoDaemonError.
    if (this.target.kind === 'remote' && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(error.code ?? '')) {
      return new ProxyError('REMOTE_UNREACHABLE', `no ${roleDefaults(this.role).bin} daemon answers at ${this.where} (${error.code})`);
    }
    if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') return new NoDaemonError(this.role, this.where);
    if (this.target.kind === 'remote' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(error.code ?? '')) {
      return new ProxyError('TLS_UNVERIFIED', `the certificate of ${this.where} does not verify (${error.message}); pass --ca-file with the CA that signed it`);
    }
    return error;
  }
}

function errorCode(text: string): string {
  try {
    return (JSON.parse(text) as { error: { code: string } }).error.code;
  } catch {
    return 'BAD_ANSWER';
  }
}

function errorMessage(text: string, status: number | undefined): string {
  try {
    return (JSON.parse(text) as { error: { message: string } }).error.message;
  } catch {
    return `the daemon answered ${status}`;
  }
}
