import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { ProxyAgent, request } from 'undici';
import { startIntercepting } from './mitm-fixture.js';
import { startOrigin } from '../../helpers/https-origin.js';

const NAMES = Number(process.env.FLOOD_NAMES ?? 2000);
const PARALLEL = 64;
const CACHE = 200;

/** Opens a CONNECT tunnel to `name`:443 and completes a TLS handshake in it (our leaf for that name), then closes. */
async function handshake(proxyPort: number, name: string, trust: SecureContext): Promise<void> {
  const raw = netConnect(proxyPort, '127.0.0.1');
  raw.on('error', () => undefined);
  try {
    await once(raw, 'connect');
    raw.write(`CONNECT ${name}:443 HTTP/1.1\r\nHost: ${name}:443\r\n\r\n`);
    const [head] = (await once(raw, 'data')) as [Buffer];
    if (!head.toString('latin1').startsWith('HTTP/1.1 200')) throw new Error(`CONNECT ${name}: ${head.toString('latin1').split('\r\n')[0]}`);
    const secure = tlsConnect({ socket: raw, servername: name, secureContext: trust });
    await once(secure, 'secureConnect');
    secure.destroy();
  } finally {
    raw.destroy();
  }
}

test('a flood of 2,000 CONNECTs to new names: every one is answered, a normal client keeps working, the certificate cache stays at its bound', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-flood-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const site = await startOrigin(dir, (_req, res) => res.end('ok'));
  t.after(() => site.server.close());
  const mitm = await startIntercepting(site.files.ca, { certCacheSize: CACHE });
  t.after(() => mitm.close());
  const ca = readFileSync(mitm.ca);
  const agent = new ProxyAgent({ uri: mitm.proxy, requestTls: { ca } });
  t.after(() => agent.close());

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let flooding = true;
  const normal = (async () => {
    const latencies: number[] = [];
    while (flooding) {
      const started = performance.now();
      const answer = await request(`https://localhost:${site.port}/normal`, { dispatcher: agent });
      await answer.body.text();
      assert.equal(answer.statusCode, 200);
      latencies.push(performance.now() - started);
    }
    return latencies;
  })();
  // One trust context for every flood client: the cost measured is the proxy's, not the clients' setup.
  const trust = createSecureContext({ ca });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < NAMES) {
        const i = next++;
        await handshake(mitm.run.http.port, `n${i}.flood.test`, trust);
      }
    }),
  );
  const floodMs = performance.now() - started;
  flooding = false;
  const latencies = await normal;
  delay.disable();
  const stats = await mitm.debug.summary();
  const leaves = stats.mitm.leaves!;
  const worst = Math.max(...latencies);
  const p99 = latencies.sort((a, b) => a - b)[Math.floor(latencies.length * 0.99)];
  console.log(
    `flood: ${NAMES} new names in ${Math.round(floodMs)} ms (${Math.round((NAMES / floodMs) * 1000)}/s), leaf signing ${leaves.averageMintMs} ms each; ` +
      `normal client ${latencies.length} requests, p99 ${Math.round(p99)} ms, worst ${Math.round(worst)} ms; event loop delay max ${Math.round(delay.max / 1e6)} ms, p99 ${Math.round(delay.percentile(99) / 1e6)} ms`,
  );
  assert.ok(leaves.minted >= NAMES, `${leaves.minted} leaves signed`);
  assert.equal(leaves.size, CACHE, 'the cache holds exactly its bound');
  assert.ok(latencies.length >= 5, 'the normal client was served throughout the flood');
  // Generous for a loaded 2-core machine shared with other work: the point is that signing never stalls the loop for seconds.
  assert.ok(delay.max / 1e6 < 3000, `event loop stalled ${Math.round(delay.max / 1e6)} ms`);
});
