import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MitmSpec } from '../../../src/config/model.js';
import { debugSpec } from '../../../src/config/normalize.js';
import { TrafficDebugger } from '../../../src/debug/traffic-debugger.js';
import { makeTlsFiles, type TlsFiles } from '../../helpers/tls-files.js';
import { snapshot, startEngine, type RunningEngine } from '../proxy/engine-fixture.js';

/** A command's outcome (never throws on a non-zero exit). */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the engine under test runs in this process). */
export function run(file: string, args: string[], env?: NodeJS.ProcessEnv, timeout = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { env: env ? { ...process.env, ...env } : process.env, timeout, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** An HTTPS origin on loopback speaking HTTP/2 and HTTP/1.1, with a certificate for localhost from a CA of its own. */
export interface Origin {
  server: Http2SecureServer;
  port: number;
  files: TlsFiles;
}

/** Starts an origin in `dir` (its CA and certificate made there with openssl); the handler answers every request. */
export async function startOrigin(dir: string, handler: Parameters<typeof createSecureServer>[1]): Promise<Origin> {
  const files = makeTlsFiles(dir, ['localhost']);
  const server = createSecureServer({ cert: readFileSync(files.cert), key: readFileSync(files.key), allowHTTP1: true }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, files };
}

/** An engine intercepting HTTPS with a fresh CA in its own state dir, and its debugger recording headers and bodies. */
export interface Intercepting {
  run: RunningEngine;
  debug: TrafficDebugger;
  dir: string;
  /** The interception CA clients must trust. */
  ca: string;
  proxy: string;
  warnings: string[];
  close(): Promise<void>;
}

/** Starts it; `mitm` overrides debug.mitm (enabled, with the origin's CA as upstream_ca_file when given). */
export async function startIntercepting(upstreamCaFile: string | undefined, mitm: Partial<MitmSpec> = {}): Promise<Intercepting> {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-'));
  const base = debugSpec(undefined, dir);
  const spec = {
    ...base,
    enabled: true,
    logHeaders: true,
    bodyBytes: 256 * 1024,
    logFile: join(dir, 'traffic.log'),
    mitm: { ...base.mitm, enabled: true, configured: true, ...(upstreamCaFile ? { upstreamCaFile } : {}), ...mitm },
  };
  const running = await startEngine(snapshot(undefined, undefined, { debug: spec }));
  const warnings: string[] = [];
  running.engine.on('warning', (message) => warnings.push(message));
  const debug = new TrafficDebugger(running.engine, spec, { stateDir: dir, role: 'server', notice: (message) => warnings.push(message) });
  await debug.start();
  return {
    run: running,
    debug,
    dir,
    ca: join(dir, 'ca', 'simple-proxy-ca.pem'),
    proxy: `http://127.0.0.1:${running.http.port}`,
    warnings,
    close: async () => {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value, or fails after `ms`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
