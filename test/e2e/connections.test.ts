import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../integration/health/pool-fixture.js';
import { associate, udpEcho } from '../integration/udp/udp-fixture.js';
import { background, connectTunnel as tunnel, echoServer, directOnly, httpPort, sandbox, trickleOrigin } from './cli-harness.js';

test('connections list shows open tunnels in every worker; connections close ends one by id, then all through a backend', { timeout: 120_000 }, async (t) => {
  const echo = await echoServer();
  t.after(() => echo.close());
  const echoPort = echo.port;
  const box = sandbox(directOnly(2));
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const port = httpPort(await box.status());
  const tunnels = await Promise.all([tunnel(port, echoPort), tunnel(port, echoPort), tunnel(port, echoPort)]);
  t.after(() => tunnels.forEach((x) => x.socket.destroy()));

  type Listed = { connections: { id: string; method: string; port: number; backend?: string; clientAddress: string }[] };
  const list = async (...args: string[]): Promise<Listed> => JSON.parse((await box.cli(['connections', 'list', '--json', '--interval', '0', ...args])).stdout) as Listed;
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

test('connections list shows the bytes so far and a current rate of long downloads still under way (plain HTTP and a CONNECT tunnel, 2 workers)', { timeout: 120_000 }, async (t) => {
  const origin = await trickleOrigin();
  t.after(() => origin.close());
  const box = sandbox(directOnly(2));
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const proxy = `http://127.0.0.1:${httpPort(await box.status())}`;
  const url = `http://127.0.0.1:${origin.port}/big`;
  // Neither download ends by itself: the origin trickles until the test closes it.
  const downloads = [background('curl', ['-s', '-o', '/dev/null', '--max-time', '60', '-x', proxy, url]), background('curl', ['-s', '-o', '/dev/null', '--max-time', '60', '-p', '-x', proxy, url])];

  type Listed = { rateIntervalMs: number | null; connections: { id: string; method: string; bytesIn: number; bytesOut: number; rateIn?: number; rateOut?: number }[] };
  const list = async (): Promise<Listed> => {
    const result = await box.cli(['connections', 'list', '--json', '--interval', '500']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Listed;
  };
  const moving = (l: Listed): boolean => l.connections.length === 2 && l.connections.every((c) => c.bytesOut > 16_384 && (c.rateOut ?? 0) > 0);
  let first = await list();
  await until(async () => moving((first = await list())), 30_000, 'both downloads listed with bytes so far and a rate');
  assert.deepEqual(first.connections.map((c) => c.method).sort(), ['CONNECT', 'GET']);
  assert.ok(first.rateIntervalMs !== null && first.rateIntervalMs >= 500, `the rate is measured over the interval: ${first.rateIntervalMs}`);
  for (const c of first.connections) assert.ok(c.bytesIn > 0, `the request counts as bytes up: ${JSON.stringify(c)}`);
  const grown = (l: Listed): boolean => first.connections.every((c) => (l.connections.find((x) => x.id === c.id)?.bytesOut ?? 0) > c.bytesOut);
  await until(async () => grown(await list()), 30_000, 'the bytes so far grow between two listings');

  const text = await box.cli(['connections', 'list']);
  assert.match(text.stdout, /UP +DOWN +RATE/);
  assert.match(text.stdout, /\d+(?:\.\d)?[KM]B?\/s/, `a rate in the table: ${text.stdout}`);
  origin.close();
  await Promise.all(downloads.map((d) => d.done));
});

test('an open UDP association (2 workers): connections list and status count its datagrams and bytes while it is open', { timeout: 120_000 }, async (t) => {
  const echo = await udpEcho('127.0.0.1');
  t.after(() => echo.close());
  const box = sandbox(directOnly(2));
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const socksPort = (await box.status()).listeners.find((l) => l.kind === 'socks5')!.port;
  const association = await associate(socksPort);
  t.after(() => association.close());
  const exchange = (data: string): Promise<unknown> => association.ask('127.0.0.1', echo.port, data, (r) => r.data === data);
  type Listed = { connections: { protocol: string; bytesIn: number; bytesOut: number; udp?: { datagramsIn: number; datagramsOut: number } }[] };
  const udpRow = async (): Promise<Listed['connections'][number] | undefined> => {
    const listed = JSON.parse((await box.cli(['connections', 'list', '--json', '--interval', '0'])).stdout) as Listed;
    return listed.connections.find((c) => c.protocol === 'udp');
  };
  await exchange('one');
  let row = await udpRow();
  await until(async () => ((row = await udpRow())?.udp?.datagramsOut ?? 0) >= 1, 15_000, 'the association listed with its first datagram');
  const before = row!.udp!.datagramsIn;
  await exchange('two');
  await until(async () => ((row = await udpRow())?.udp?.datagramsIn ?? 0) > before, 15_000, 'its datagram count grows while it is open');
  assert.ok(row!.bytesIn >= 6 && row!.bytesOut >= 6, JSON.stringify(row));

  const udp = (await box.status()).udp as { associationsActive: number; datagramsIn: number; bytesOut: number };
  assert.equal(udp.associationsActive, 1);
  assert.ok(udp.datagramsIn >= 2 && udp.bytesOut >= 6, JSON.stringify(udp));
  const table = await box.cli(['connections', 'list', '--interval', '0']);
  assert.match(table.stdout, new RegExp(`UDP 127\\.0\\.0\\.1:${echo.port} \\(\\d+↑ \\d+↓ datagrams\\)`), `datagrams each way in the table: ${table.stdout}`);
  const text = await box.cli(['status']);
  assert.match(text.stdout, /udp +1 associations open \(1 since start\), 1 destinations; datagrams \d+ in, \d+ out; \d+B in, \d+B out; none dropped/);
});
