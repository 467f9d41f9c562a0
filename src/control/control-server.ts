import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { ProxyError } from '../errors.js';
import type { ControlRouter } from './control-router.js';
import { peerUidWithin } from './peer-credentials.js';

/** Methods that read only: not audited unless refused, so their caller's uid is not looked up. */
const READS = new Set(['GET', 'HEAD']);
/** How long a change waits for its caller's uid before it goes on with the uid unknown. */
const UID_WAIT_MS = 1000;

/** HTTP+JSON over an owner-only Unix socket: the daemon's control plane. */
export class ControlServer {
  private server: Server | null = null;

  constructor(
    private readonly socketPath: string,
    private readonly router: ControlRouter,
  ) {}

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
    // Only the owner (and root) can open the 0600 socket: whoever connects has every right.
    const server = answerHalfClosed(createServer((req, res) => void this.serve(req, res)));
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

  /**
   * Serves one request as a local admin. A change is audited with the uid of the process that
   * made it (its peer credentials), looked up while it waits, for up to UID_WAIT_MS (on a loaded
   * machine the lookup can take longer: the call then goes on, audited with an unknown uid); a
   * read has no uid (null, unknown).
   */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const uid = this.isChange(req) ? await peerUidWithin(req.socket, UID_WAIT_MS) : null;
    await this.router.dispatch(req, res, { kind: 'local', role: 'admin', uid });
  }

  /** Whether a request is a call of the API that changes something (what the audit trail records with its uid). */
  private isChange(req: IncomingMessage): boolean {
    const method = req.method ?? 'GET';
    if (READS.has(method)) return false;
    try {
      return this.router.find(method, new URL(req.url ?? '/', 'http://control').pathname).name !== null;
    } catch {
      // A malformed path: the router answers 400, which is no change.
      return false;
    }
  }

  /** Stops listening, ends open streams and removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await closeServer(server);
    try {
      unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }
}

/** Closes an HTTP server and every connection it holds (open streams included). */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Whether something accepts connections on a Unix socket (a live daemon, not a stale file). */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return answers(connect(path), timeoutMs);
}

/** Whether something accepts TCP connections at host:port. */
export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return answers(connect(port, host), timeoutMs);
}

function answers(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
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

/**
 * Lets a client that half-closes after its request (`nc -N`, `socket.end(request)`) still get the
 * answer: Node's HTTP server otherwise drops a request whose handler has not answered by the time
 * the client's end arrives, and the control API's handlers answer asynchronously (a caller's uid,
 * the config file, the engine processes).
 */
export function answerHalfClosed<T extends Server | HttpsServer>(server: T): T {
  // Node's own switch for it (its HTTP server reads it on the client's end); not in its typings.
  (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  return server;
}
