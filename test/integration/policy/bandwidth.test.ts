import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshot, startEngine } from '../proxy/engine-fixture.js';
import { curl, origin } from './policy-fixture.js';

const MB = 1_000_000;
const bandwidth = (limits: Record<string, number>) =>
  snapshot(undefined, undefined, { raw: { rate_limiting: { enabled: true, bandwidth: { enabled: true, max_mbps_per_connection: 0, max_mbps_per_ip: 0, max_mbps_total: 0, ...limits } } } });

/** Downloads `bytes` through the proxy (CONNECT tunnel or plain HTTP), from `client` (default 127.0.0.1); resolves with curl's bytes/s. */
async function download(proxyPort: number, sitePort: number, bytes: number, tunnel: boolean, client = '127.0.0.1'): Promise<number> {
  const via = [...(tunnel ? ['--proxytunnel'] : []), '--interface', client, '-x', `http://127.0.0.1:${proxyPort}`];
  const result = await curl(['-o', '/dev/null', '-w', '%{speed_download} %{size_download}', ...via, `http://127.0.0.1:${sitePort}/?bytes=${bytes}`], 30_000);
  assert.equal(result.code, 0, result.stderr);
  const [speed, size] = result.stdout.split(' ').map(Number);
  assert.equal(size, bytes);
  return speed;
}

test('max_mbps_per_connection: a curl download lands within 10% of the set rate (tunnel and plain HTTP)', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const proxy = await startEngine(bandwidth({ max_mbps_per_connection: 16 }));
  t.after(() => proxy.stop());
  const rate = (16 * MB) / 8;
  for (const tunnel of [true, false]) {
    const speed = await download(proxy.http.port, site.port, 8 * MB, tunnel);
    t.diagnostic(`${tunnel ? 'tunnel' : 'plain'}: ${(speed / MB).toFixed(3)} MB/s at a limit of ${(rate / MB).toFixed(3)} MB/s`);
    assert.ok(Math.abs(speed - rate) / rate <= 0.1, `${tunnel ? 'tunnel' : 'plain'}: ${(speed / MB).toFixed(2)} MB/s vs ${(rate / MB).toFixed(2)} MB/s`);
  }
});

/** Two 4 MB downloads at once from `clients`: together they get `mbps`, each about half of it. */
async function shared(t: import('node:test').TestContext, limits: Record<string, number>, mbps: number, clients: [string, string]): Promise<void> {
  const site = await origin();
  t.after(() => site.server.close());
  const proxy = await startEngine(bandwidth(limits));
  t.after(() => proxy.stop());
  const rate = (mbps * MB) / 8;
  const started = performance.now();
  const speeds = await Promise.all(clients.map((client) => download(proxy.http.port, site.port, 4 * MB, true, client)));
  const seconds = (performance.now() - started) / 1000;
  const combined = (8 * MB) / seconds;
  t.diagnostic(`${clients.join(' + ')}: combined ${(combined / MB).toFixed(3)} MB/s; each ${speeds.map((s) => (s / MB).toFixed(3)).join(' / ')} MB/s; limit ${(rate / MB).toFixed(3)} MB/s`);
  // The limit is a ceiling. The wall time also counts starting two curls, which a loaded machine can
  // stretch by seconds: how fast each download went is curl's own figure, checked below.
  assert.ok(combined <= rate * 1.15, `combined ${(combined / MB).toFixed(2)} MB/s vs ${(rate / MB).toFixed(2)} MB/s`);
  for (const speed of speeds) assert.ok(speed > rate * 0.35 && speed < rate * 0.65, `each gets about half: ${(speed / MB).toFixed(2)} MB/s`);
}

test('max_mbps_per_ip: two downloads from one IP share it', { timeout: 60_000 }, (t) => shared(t, { max_mbps_per_ip: 16 }, 16, ['127.0.0.1', '127.0.0.1']));

test('max_mbps_total: downloads from two IPs share it', { timeout: 60_000 }, (t) => shared(t, { max_mbps_per_ip: 64, max_mbps_total: 16 }, 16, ['127.0.0.1', '127.0.0.2']));

test('bandwidth.enabled: false leaves the tunnel unthrottled whatever the max_mbps values say', { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const off = snapshot(undefined, undefined, { raw: { rate_limiting: { enabled: true, bandwidth: { enabled: false, max_mbps_per_connection: 8, max_mbps_per_ip: 8, max_mbps_total: 8 } } } });
  const proxy = await startEngine(off);
  t.after(() => proxy.stop());
  const limit = (8 * MB) / 8;
  const speed = await download(proxy.http.port, site.port, 16 * MB, true);
  t.diagnostic(`tunnel: ${(speed / MB).toFixed(1)} MB/s with limits of ${(limit / MB).toFixed(1)} MB/s switched off`);
  assert.ok(speed > 4 * limit, `${(speed / MB).toFixed(2)} MB/s: a switched-off limit still paced the tunnel`);
});
