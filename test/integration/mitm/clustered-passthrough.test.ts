import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debugSpec } from '../../../src/config/normalize.js';
import { TrafficDebugger } from '../../../src/debug/traffic-debugger.js';
import { ClusteredEngine } from '../../../src/proxy/clustered-engine.js';
import { snapshot } from '../proxy/engine-fixture.js';
import { startOrigin } from '../../helpers/https-origin.js';
import { run, waitFor } from '../../helpers/run.js';

const PROCESSES = 2;

test('engine workers count every client refusal of the certificate: after passthrough_after_failures refusals in one worker, the host passes through in all', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-clustered-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const site = await startOrigin(dir, (_req, res) => res.end('origin'));
  t.after(() => site.server.close());
  const engine = new ClusteredEngine(snapshot(), PROCESSES);
  const bound = await engine.start();
  t.after(() => engine.stop({ drainMs: 0 }));
  const proxy = `http://127.0.0.1:${bound.find((l) => l.kind === 'http')!.port}`;
  const spec = debugSpec(undefined, dir);
  const debug = new TrafficDebugger(engine, { ...spec, mitm: { ...spec.mitm, enabled: true, configured: true, passthroughAfterFailures: 1, upstreamCaFile: site.files.ca } }, { stateDir: dir, role: 'server', notice: () => undefined });
  await debug.start();

  const first = '127.0.0.1';
  // Whichever worker the second client reaches: every one passes the host through by now.
  const second = '127.0.0.2';
  // Trusts the origin's own CA, not ours: a pinning client in miniature.
  const pinned = (from: string): ReturnType<typeof run> => run('curl', ['-sS', '--interface', from, '--proxy', proxy, '--cacert', site.files.ca, `https://localhost:${site.port}/`]);
  assert.notEqual((await pinned(first)).code, 0, 'the first worker intercepts, and the client refuses our certificate');
  await waitFor(
    'every worker passing localhost through',
    async () => {
      const parts = await engine.debug({ op: 'counts' });
      return parts.length === PROCESSES && parts.every((part) => part?.mitm.passthroughHosts.includes('localhost')) ? true : undefined;
    },
    20_000,
  );
  const other = await pinned(second);
  assert.equal(other.code, 0, `a client of the other worker is passed through at once: ${other.stderr}`);
  assert.equal(other.stdout, 'origin');
  const stats = await debug.summary();
  assert.equal(stats.mitm.clientRejections, 1, 'the refusal is counted once over the workers');
});
