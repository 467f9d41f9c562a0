import { request } from 'node:http';
import { ConfigError, ProxyError } from '../errors.js';
import { roleDefaults, type Role } from '../role.js';

/** The error a command gets when no daemon answers on the socket. */
export class NoDaemonError extends ProxyError {
  constructor(role: Role, socketPath: string) {
    super('NO_DAEMON', `no ${roleDefaults(role).bin} daemon is running (no answer on ${socketPath})`);
  }
}

/** A typed client of the control socket. */
export class ControlClient {
  constructor(
    readonly socketPath: string,
    private readonly role: Role,
  ) {}

  /** Sends one request and returns the parsed JSON answer; API errors become ProxyError/ConfigError. */
  call<T>(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { socketPath: this.socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}, timeout: timeoutMs },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
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
            resolve(parsed as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new ProxyError('TIMEOUT', `the daemon did not answer ${method} ${path} within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') reject(new NoDaemonError(this.role, this.socketPath));
        else reject(error);
      });
      req.end(payload);
    });
  }

  /** Follows an NDJSON stream, calling `onEvent` per line, until `signal` aborts or the daemon goes away; `onOpen` once the daemon answers. */
  follow(path: string, onEvent: (event: unknown) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method: 'GET', path, signal }, (res) => {
        onOpen?.();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) !== -1) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.trim() !== '') onEvent(JSON.parse(line));
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) resolve();
        else if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') reject(new NoDaemonError(this.role, this.socketPath));
        else reject(error);
      });
      req.end();
    });
  }
}
