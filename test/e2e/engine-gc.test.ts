import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { directOnly, enginesOf, httpPort, okOrigin, sandbox } from './cli-harness.js';
import { waitFor } from '../helpers/run.js';

const BIN = resolve(import.meta.dirname, '../../bin/simple-proxy-server.js');
/** Keep-alive requests in the measured load, and how many are in flight at once. */
const REQUESTS = 20_000;
const IN_FLIGHT = 32;
/**
 * What a request may leave in an engine worker's old generation, on average. A request's objects
 * die young; when the ledger kept open records in Maps and Sets, whose replaced tables chain to
 * the next (slot-collections.ts), the workers promoted 1.8-3.7 KB of every request once a full
 * collection had run, and a mark-compact ran about every second under load. Now well under 100 bytes.
 */
const PROMOTED_PER_REQUEST_MAX = 1024;

/** Sends `total` keep-alive GETs for `url` through the proxy, `inFlight` at a time; resolves with how many answered 200. */
async function keepAliveLoad(proxyPort: number, url: string, total: number, inFlight: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  let sent = 0;
  let ok = 0;
  const one = (): Promise<void> =>
    new Promise((done, fail) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent }, (res) => {
        if (res.statusCode === 200) ok++;
        res.resume();
        res.on('end', done);
      });
      req.on('error', fail);
      req.end();
    });
  const lane = async (): Promise<void> => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  agent.destroy();
  return ok;
}

test('under keep-alive load an engine worker keeps request objects out of its old generation', { timeout: 180_000 }, async (t) => {
  const box = sandbox(directOnly(2));
  t.after(() => box.cleanup());
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  // V8 prints each collection of every process (workers inherit the daemon's node flags) on the daemon's stdout.
  const daemon = spawn(process.execPath, ['--trace-gc-nvp', BIN, 'start', '--foreground', '--config', box.config], { env: box.env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
  });
  let trace = '';
  daemon.stdout.setEncoding('utf8').on('data', (chunk: string) => (trace += chunk));

  const status = await waitFor('the daemon', async () => ((await box.cli(['status', '--json'])).code === 0 ? box.status() : undefined), 30_000);
  const workers = await waitFor('two engine workers', () => {
    const engines = enginesOf(status.pid);
    return engines.length === 2 ? engines : undefined;
  });
  const port = httpPort(status);
  const url = `http://127.0.0.1:${origin.port}/x`;
  // Warm up (code compiled), then let each worker go quiet and run its full collection
  // (idle-collector.ts): what a full collection promotes is where a chain of replaced tables began.
  assert.equal(await keepAliveLoad(port, url, 2_000, IN_FLIGHT), 2_000);
  const quiet = trace.length;
  await waitFor(
    'a full collection in each worker after the warm-up',
    () => (workers.every((pid) => trace.slice(quiet).split('\n').some((line) => line.startsWith(`[${pid}:`) && line.includes(' gc=mc '))) ? true : undefined),
    60_000,
  );
  const from = trace.length;
  assert.equal(await keepAliveLoad(port, url, REQUESTS, IN_FLIGHT), REQUESTS);

  let promoted = 0;
  let scavenges = 0;
  for (const line of trace.slice(from).split('\n')) {
    const pid = Number(/^\[(\d+):/.exec(line)?.[1]);
    if (!workers.includes(pid) || !line.includes(' gc=s ')) continue;
    scavenges++;
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  assert.ok(scavenges > 0, 'the workers collected their young generation during the load (the trace is read)');
  const perRequest = promoted / REQUESTS;
  t.diagnostic(`promoted ${perRequest.toFixed(0)} bytes per request in ${scavenges} scavenges`);
  assert.ok(perRequest < PROMOTED_PER_REQUEST_MAX, `engine workers promoted ${perRequest.toFixed(0)} bytes per request to the old generation (${scavenges} scavenges, ${(promoted / 1048576).toFixed(1)} MB)`);
});
