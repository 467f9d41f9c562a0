import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendSpec, ConfigSnapshot } from '../../../src/config/model.js';
import { createEngine } from '../../../src/proxy/create-engine.js';
import type { BoundListener } from '../../../src/engine/engine-api.js';
import { freePort } from '../../helpers/ports.js';
import { makeTlsFiles } from '../../helpers/tls-files.js';
import { makePayloads, runAll, startOrigins, type Front, type ProxyAddress } from './bulk-transfers.js';
import { snapshot } from './engine-fixture.js';

/*
 * 32 parallel transfers of 5 to 50 MB of random bytes (downloads and uploads, slow readers and
 * half-closes) through every front and every relay variant, on the default worker count (one
 * engine process per core), each checked by sha256. A read buffer that one connection's pending
 * write still holds while another connection reads into it shows up here as wrong bytes.
 */

const payloads = makePayloads();

/** Starts an engine with the default worker count; returns its listeners and a stop. */
async function start(t: { after(fn: () => unknown): void }, config: ConfigSnapshot): Promise<BoundListener[]> {
  // A loaded machine moves these bytes slowly: no timeout may end a transfer that is progressing.
  const timeouts = { connectMs: 30_000, readMs: 120_000, writeMs: 120_000, idleMs: 120_000 };
  // Own ports: node:cluster shares one handle among all workers that listen on 127.0.0.1:0.
  const listeners = await Promise.all(config.listeners.map(async (l) => ({ ...l, port: await freePort() })));
  const engine = createEngine({ ...config, listeners, network: { ...config.network, timeouts } }, 0);
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  return bound;
}

const port = (bound: BoundListener[], kind: 'http' | 'socks5'): ProxyAddress => ({ port: bound.find((l) => l.kind === kind)!.port });

test('every byte arrives as sent under load: each front and relay variant, default workers', { timeout: 600_000 }, async (t) => {
  const origins = await startOrigins(payloads);
  t.after(() => origins.close());
  const dir = mkdtempSync(join(tmpdir(), 'sp-integrity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const direct = await start(t, snapshot());
  const tls = makeTlsFiles(dir);
  const tlsListener = await start(t, snapshot(undefined, undefined, { listeners: [{ kind: 'http', host: '127.0.0.1', port: 0, tls: { certFile: tls.cert, keyFile: tls.key } }] }));
  // The upstream hops are the direct engine's own listeners: real HTTP CONNECT and SOCKS5 servers.
  const upstream = (type: 'http' | 'socks5'): BackendSpec => ({ name: `up-${type}`, type, host: '127.0.0.1', port: port(direct, type).port });
  const viaHttp = await start(t, snapshot([upstream('http')]));
  const viaSocks = await start(t, snapshot([upstream('socks5')]));
  const paced = await start(
    t,
    snapshot(undefined, undefined, { raw: { rate_limiting: { enabled: true, bandwidth: { enabled: true, max_mbps_per_connection: 800, max_mbps_per_ip: 0, max_mbps_total: 0 } } } }),
  );

  const scenarios: [string, Front, ProxyAddress][] = [
    ['HTTP forward, direct', 'http', port(direct, 'http')],
    ['CONNECT, direct', 'connect', port(direct, 'http')],
    ['SOCKS5, direct', 'socks5', port(direct, 'socks5')],
    ['TLS listener CONNECT, direct', 'tls', { port: tlsListener[0].port, ca: readFileSync(tls.ca) }],
    ['WebSocket upgrade, direct', 'websocket', port(direct, 'http')],
    ['CONNECT through an upstream HTTP proxy', 'connect', port(viaHttp, 'http')],
    ['SOCKS5 through an upstream HTTP proxy', 'socks5', port(viaHttp, 'socks5')],
    ['HTTP forward through an upstream HTTP proxy', 'http', port(viaHttp, 'http')],
    ['WebSocket upgrade through an upstream HTTP proxy', 'websocket', port(viaHttp, 'http')],
    ['SOCKS5 through an upstream SOCKS5 proxy', 'socks5', port(viaSocks, 'socks5')],
    ['CONNECT through an upstream SOCKS5 proxy', 'connect', port(viaSocks, 'http')],
    ['CONNECT with bandwidth pacing', 'connect', port(paced, 'http')],
    ['SOCKS5 with bandwidth pacing', 'socks5', port(paced, 'socks5')],
    ['HTTP forward with bandwidth pacing', 'http', port(paced, 'http')],
  ];
  const failed: string[] = [];
  for (const [name, front, address] of scenarios) {
    const began = Date.now();
    const failures = await runAll(front, address, origins, payloads);
    t.diagnostic(`${name}: ${Date.now() - began} ms`);
    if (failures.length > 0) failed.push(`${name}: ${failures.length} of 32 failed (${failures.slice(0, 3).join('; ')})`);
  }
  assert.deepEqual(failed, []);
});
