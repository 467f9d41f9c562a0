import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../integration/health/pool-fixture.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { connectTunnel as tunnel, echoServer, httpPort, sandbox } from './cli-harness.js';

test('connections list shows open tunnels in every worker; connections close ends one by id, then all through a backend', { timeout: 120_000 }, async (t) => {
  const echo = await echoServer();
  t.after(() => echo.close());
  const echoPort = echo.port;
  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 2\n${TRUSTED_LOOPBACK_YAML}backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: Default, match: { domains: ["*"] }, backend: direct }\n`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const port = httpPort(await box.status());
  const tunnels = await Promise.all([tunnel(port, echoPort), tunnel(port, echoPort), tunnel(port, echoPort)]);
  t.after(() => tunnels.forEach((x) => x.socket.destroy()));

  type Listed = { connections: { id: string; method: string; port: number; backend?: string; clientAddress: string }[] };
  const list = async (...args: string[]): Promise<Listed> => JSON.parse((await box.cli(['connections', 'list', '--json', ...args])).stdout) as Listed;
  let listed = await list();
  await until(async () => (listed = await list()).connections.length === 3, 15_000, 'the three tunnels are listed');
  assert.deepEqual(listed.connections.map((c) => [c.method, c.port, c.backend]), Array(3).fill(['CONNECT', echoPort, 'direct']));
  assert.equal((await list('--backend', 'elsewhere')).connections.length, 0);
  assert.equal((await list('--client', '127.0.0.1')).connections.length, 3);

  const closed = await box.cli(['connections', 'close', listed.connections[0].id, '--json']);
  assert.equal(closed.code, 0, closed.stderr);
  assert.deepEqual(JSON.parse(closed.stdout), { closed: 1 });
  await until(() => tunnels.filter((x) => x.closed()).length === 1, 15_000, 'the client side of the closed tunnel ends');
  await until(async () => (await list()).connections.length === 2, 15_000, 'two are left');

  const missing = await box.cli(['connections', 'close', listed.connections[0].id]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /no open connection with id/);
  assert.equal((await box.cli(['connections', 'close'])).code, 2);

  const all = await box.cli(['connections', 'close', '--backend', 'direct', '--json']);
  assert.deepEqual(JSON.parse(all.stdout), { closed: 2 });
  await until(() => tunnels.every((x) => x.closed()), 15_000, 'every tunnel through the backend ends');
});
