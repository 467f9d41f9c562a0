import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigSnapshot, MitmSpec } from '../../../src/config/model.js';
import { debugSpec } from '../../../src/config/normalize.js';
import { TrafficDebugger } from '../../../src/debug/traffic-debugger.js';
import { snapshot, startEngine, type RunningEngine } from '../proxy/engine-fixture.js';

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

/** Starts it on `config` (the engine fixture's snapshot by default); `mitm` overrides debug.mitm (enabled, with the origin's CA as upstream_ca_file when given). */
export async function startIntercepting(upstreamCaFile: string | undefined, mitm: Partial<MitmSpec> = {}, config: ConfigSnapshot = snapshot()): Promise<Intercepting> {
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
  const running = await startEngine({ ...config, debug: spec });
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
