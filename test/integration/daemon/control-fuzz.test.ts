import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { fuzzControl, send } from '../../helpers/fuzz.js';
import { curl, origin } from '../policy/policy-fixture.js';
import { startDaemonProcess } from './daemon-process.js';

const SEED = Number(process.env.FUZZ_SEED ?? 18);

test(`a short seeded control-API fuzz run (seed ${SEED}): 150 malformed requests on the control socket, no 5xx, a valid config file, and the daemon still serves`, { timeout: 90_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const daemon = await startDaemonProcess();
  t.after(() => daemon.stop());
  const { sent, serverErrors } = await fuzzControl(daemon.socket, SEED, 150, 8, 2000);
  console.log(`control fuzz: ${sent} cases, seed ${SEED}, ${serverErrors.length} answered 5xx`);
  assert.deepEqual(serverErrors, [], 'bad input gets a 4xx, never a 5xx');
  assert.ok(daemon.alive(), 'the daemon is still running');
  const status = await send(daemon.socket, Buffer.from('GET /api/status HTTP/1.1\r\nHost: control\r\n\r\n'));
  assert.match(status.toString(), /^HTTP\/1\.1 200/);
  // Whatever edits it accepted, the file still loads: nothing it wrote is broken.
  await assert.doesNotReject(loadConfig(daemon.config, 'server'));
  const answer = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${daemon.port}`, `http://127.0.0.1:${site.port}/`]);
  assert.match(answer.stdout, /^(200|403|502)$/, 'the proxy answers (the fuzzed rules decide how)');
});
