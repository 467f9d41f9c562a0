import { Agent, request } from 'node:http';
import { parseConfigText } from '../../../src/config/load.js';
import type { ConfigSnapshot } from '../../../src/config/model.js';
import { ProxyEngine } from '../../../src/proxy/engine.js';
import type { ConnectionRecord } from '../../../src/protocol/connection-record.js';
import { startEngine, snapshot, type RunningEngine } from '../proxy/engine-fixture.js';
import { TRUSTED_LOOPBACK_YAML } from '../../helpers/trusted-loopback.js';

/** Upstream proxies: real engines of the server role, each forwarding direct. */
export async function startUpstreams(count: number, ports: number[] = []): Promise<RunningEngine[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startEngine(snapshot(undefined, undefined, { listeners: [{ kind: 'http', host: '127.0.0.1', port: ports[i] ?? 0 }, { kind: 'socks5', host: '127.0.0.1', port: 0 }] })),
    ),
  );
}

/** What a front proxy's pool looks like. */
export interface PoolOptions {
  /** Member weights, one per upstream (named up0, up1, …). */
  weights: number[];
  algorithm?: 'round_robin' | 'least_conn' | 'random' | 'ip_hash';
  sticky?: boolean;
  /** A `health_checks:` section and each backend's `health_check:` (YAML flow mappings), when checks should run. */
  healthChecks?: { defaults: string; backend: string };
  workers?: number;
}

/** A front proxy config (server dialect, parsed like a file) whose one rule balances over the upstreams. */
export function poolConfig(upstreams: { http: { port: number } }[], options: PoolOptions): ConfigSnapshot {
  const backends = upstreams
    .map((u, i) => `  - name: up${i}\n    type: http\n    proxy: { address: "127.0.0.1:${u.http.port}" }\n${options.healthChecks ? `    health_check: ${options.healthChecks.backend}\n` : ''}`)
    .join('');
  const members = options.weights.map((w, i) => `{ name: up${i}, weight: ${w} }`).join(', ');
  const text = `server:
  http_port: 0
  socks5_port: 0
  bind_address: 127.0.0.1
  workers: ${options.workers ?? 1}
network:
  timeouts: { connect: "2s", read: "10s" }
${TRUSTED_LOOPBACK_YAML}${options.healthChecks ? `health_checks:\n  defaults: ${options.healthChecks.defaults}\n` : ''}backends:
${backends}rules:
  - name: pool
    match: { domains: ["*"] }
    backends: [${members}]
    load_balancing: { algorithm: ${options.algorithm ?? 'round_robin'}, sticky_sessions: ${options.sticky ?? false} }
`;
  return parseConfigText(text, 'front-config.yaml', 'server');
}

/** Starts a front proxy on a pool config, stopped after the test; with its HTTP port and every finished record. */
export async function startFront(t: { after(fn: () => Promise<void> | void): void }, config: ConfigSnapshot): Promise<{ engine: ProxyEngine; port: number; records: ConnectionRecord[] }> {
  const engine = new ProxyEngine(config);
  const records: ConnectionRecord[] = [];
  engine.on('connection:end', (r) => records.push(r));
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }).then(() => undefined));
  return { engine, port: bound.find((l) => l.kind === 'http')!.port, records };
}

/** One plain-HTTP GET through a proxy; resolves with the status (0 when the request failed) and body. */
export function get(proxyPort: number, url: string, options: { agent?: Agent; localAddress?: string } = {}): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent: options.agent ?? false, localAddress: options.localAddress, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => resolve({ status: 0, body, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve({ status: 0, body: '', error: error.message }));
    req.end();
  });
}

/** Runs `count` requests with `concurrency` in flight. */
export async function many(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

/** Polls `check` every 20 ms until it is true, failing after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
