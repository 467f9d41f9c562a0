import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from '../health/pool-fixture.js';
import { curl, origin } from '../policy/policy-fixture.js';

const CHILD = fileURLToPath(new URL('./fd-exhaustion-child.ts', import.meta.url));

test('out of file descriptors: logged (not fatal), and the proxy serves again once connections close', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const child = spawn('prlimit', ['--nofile=128:128', process.execPath, '--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const warnings: string[] = [];
  let port = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { port?: number; warning?: string };
    if (message.port) port = message.port;
    if (message.warning) warnings.push(message.warning);
  });
  await until(() => port > 0, 20_000, 'the engine listening');

  const held: Socket[] = [];
  t.after(() => held.forEach((s) => s.destroy()));
  for (let i = 0; i < 200; i++) {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    held.push(socket);
    await once(socket, 'connect');
  }
  await until(() => warnings.some((w) => /of 128 file descriptors in use \(EMFILE: out of file descriptors\)/.test(w)), 15_000, 'a warning about failed accepts');
  assert.equal(child.exitCode, null, 'the engine is still running');

  held.forEach((s) => s.destroy());
  await until(async () => (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${site.port}/`])).stdout === '200', 15_000, 'service after the connections closed');
});
