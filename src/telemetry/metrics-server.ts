import { createServer, type Server } from 'node:http';
import type { MetricsSpec } from '../config/model.js';
import { readProxyHeaderFirst, type ProxyProtocolGate } from '../policy/proxy-protocol-gate.js';

/** Whether the proxy can serve traffic, and why not. */
export interface Readiness {
  ready: boolean;
  reason?: string;
}

/** What the metrics listener serves. */
export interface MetricsSources {
  metrics(): Promise<{ contentType: string; text: string }>;
  readiness(): Readiness;
  /** `server.proxy_protocol` in force: a balancer's checks (`check-send-proxy`) send a header here too. */
  proxyProtocol(): ProxyProtocolGate | null;
  /** Tells the daemon log (a refused PROXY header). */
  warn(message: string): void;
}

/**
 * The answer of `/health/live` (the process answers), `/health/ready` and `/health` (a config is
 * loaded and traffic has a healthy backend), or null for any other path.
 */
export function healthAnswer(path: string, readiness: () => Readiness): { status: number; body: { status: string; reason?: string } } | null {
  if (path === '/health/live') return { status: 200, body: { status: 'ok' } };
  if (path !== '/health/ready' && path !== '/health') return null;
  const now = readiness();
  return { status: now.ready ? 200 : 503, body: { status: now.ready ? 'ok' : 'unavailable', ...(now.reason ? { reason: now.reason } : {}) } };
}

/**
 * The metrics listener (README "Watching it"): the Prometheus text at `endpoint` and the health
 * endpoints. It is its own listener so scrapers and load balancers never touch the proxy ports.
 */
export class MetricsServer {
  private server: Server | null = null;

  constructor(
    private readonly spec: MetricsSpec & { port: number },
    private readonly sources: MetricsSources,
  ) {}

  /** Binds the listener; rejects with the reason when it cannot. */
  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(`${JSON.stringify(body)}\n`);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'only GET' });
      if (path === this.spec.endpoint) {
        this.sources.metrics().then(
          ({ contentType, text }) => {
            res.writeHead(200, { 'content-type': contentType });
            res.end(text);
          },
          (error: Error) => json(500, { error: error.message }),
        );
        return;
      }
      const health = healthAnswer(path, this.sources.readiness);
      if (health) return json(health.status, health.body);
      json(404, { error: `not found; try ${this.spec.endpoint}, /health, /health/ready or /health/live` });
    });
    readProxyHeaderFirst(server, () => this.sources.proxyProtocol(), (message) => this.sources.warn(message));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen for metrics on ${this.spec.host}:${this.spec.port}: ${error.code === 'EADDRINUSE' ? 'address already in use' : error.message}`)),
      );
      server.listen({ host: this.spec.host, port: this.spec.port }, () => resolve());
    });
    this.server = server;
    const address = server.address();
    return { host: this.spec.host, port: typeof address === 'object' && address ? address.port : this.spec.port };
  }

  /** Closes the listener. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
