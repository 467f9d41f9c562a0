import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { FailureLimiter } from '../auth/failure-limiter.js';
import type { ManagementSpec } from '../config/model.js';
import { healthAnswer, type Readiness } from '../telemetry/metrics-server.js';
import type { KeyStore } from './api-keys.js';
import { errorBody, send, type ControlRouter } from './control-router.js';
import { answerHalfClosed, closeServer } from './control-server.js';
import { bearerKey, browserProblem, roleGuard } from './management-access.js';

/** A refusal before any route ran (health of the request itself: Host, Origin, key, throttle). */
export interface EarlyRefusal {
  req: IncomingMessage;
  address: string;
  status: number;
  code: string;
  message: string;
}

/** What the listener needs of the daemon. */
export interface ManagementHooks {
  readiness(): Readiness;
  /** Reads and checks a certificate and key pair (throws on a bad pair, so a bad renewal never replaces a good one). */
  readTls(tls: NonNullable<ManagementSpec['tls']>): { cert: Buffer; key: Buffer };
  /** Hears each refusal made before routing, for the audit trail. */
  refused(refusal: EarlyRefusal): void;
}

/** Failed key attempts per client address before it is refused for the rest of the minute (like proxy authentication). */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;

/**
 * The control API over TCP (`web_ui_port`): the same routes as the Unix socket, each for an API
 * key of a role that may call it, plus `/health`, `/health/ready` and `/health/live` for anyone.
 * Only the names configured for it are answered, browsers from other origins are refused, and
 * a client that keeps presenting wrong keys is throttled.
 */
export class ManagementListener {
  private server: Server | HttpsServer | null = null;
  private readonly failures = new FailureLimiter(MAX_FAILURES, FAILURE_WINDOW_MS);

  constructor(
    private spec: ManagementSpec,
    private readonly router: ControlRouter,
    private readonly keys: KeyStore,
    private readonly hooks: ManagementHooks,
  ) {}

  /** Binds the listener; resolves with where it listens. */
  async start(): Promise<{ host: string; port: number; tls: boolean }> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const server = answerHalfClosed(this.spec.tls ? createHttpsServer(this.hooks.readTls(this.spec.tls), handler) : createHttpServer(handler));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`cannot serve the control API on ${this.spec.host}:${this.spec.port}: ${error.code === 'EADDRINUSE' ? 'address already in use' : error.message}`)));
      server.listen({ host: this.spec.host, port: this.spec.port ?? 0 }, () => resolve());
    });
    this.server = server;
    const address = server.address();
    return { host: this.spec.host, port: typeof address === 'object' && address ? address.port : (this.spec.port ?? 0), tls: this.spec.tls !== undefined };
  }

  /** Whether a new spec can be taken in place (same address and TLS on or off); then takes it, reloading the certificate. */
  update(spec: ManagementSpec): boolean {
    if (spec.host !== this.spec.host || spec.port !== this.spec.port || (spec.tls === undefined) !== (this.spec.tls === undefined)) return false;
    // Read and checked before it replaces the one in use: a bad renewal keeps the old certificate serving.
    if (spec.tls) (this.server as HttpsServer).setSecureContext(this.hooks.readTls(spec.tls));
    this.spec = spec;
    return true;
  }

  /** Closes the listener and its connections (streams included). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '';
    const path = (req.url ?? '/').split('?')[0];
    const health = req.method === 'GET' || req.method === 'HEAD' ? healthAnswer(path, this.hooks.readiness) : null;
    if (health) return send(res, health.status, health.body);
    const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}): void => {
      send(res, status, { error: { code, message } }, headers);
      this.hooks.refused({ req, address, status, code, message });
    };
    const problem = browserProblem(req, this.spec);
    if (problem) return refuse(403, 'FORBIDDEN_ORIGIN', problem);
    const wait = this.failures.blockedFor(address);
    if (wait > 0) return refuse(429, 'TOO_MANY_FAILURES', `too many failed API key attempts from ${address}; try again in ${Math.ceil(wait / 1000)} s`, { 'retry-after': String(Math.ceil(wait / 1000)) });
    let secret: string | null;
    try {
      secret = bearerKey(req);
    } catch (error) {
      this.failures.fail(address);
      return refuse(400, 'BAD_REQUEST', errorBody(error).error.message);
    }
    const holder = secret === null ? null : this.keys.check(secret);
    if (!holder) {
      if (secret !== null) this.failures.fail(address);
      return refuse(401, 'UNAUTHORIZED', secret === null ? 'an API key is needed: "Authorization: Bearer KEY"' : 'the API key is not valid (unknown, revoked or expired)', { 'www-authenticate': 'Bearer realm="simple-proxy"' });
    }
    await this.router.dispatch(req, res, { kind: 'key', role: holder.role, keyId: holder.id, address }, roleGuard);
  }
}
