import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHar } from '../../../src/debug/har.js';
import { trafficEventLines } from '../../../src/debug/traffic-format.js';
import { startIntercepting, type Intercepting } from './mitm-fixture.js';
import { startOrigin, type Origin } from '../../helpers/https-origin.js';
import { run, waitFor } from '../../helpers/run.js';
import { METRICS_ON, scrape } from '../policy/policy-fixture.js';
import { snapshot } from '../proxy/engine-fixture.js';

/** An origin on loopback reached by the name `localhost` (so the dial resolves a name), closed after the test. */
async function origin(t: TestContext): Promise<Origin> {
  const dir = mkdtempSync(join(tmpdir(), 'mitm-timings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const site = await startOrigin(dir, (req, res) => {
    req.resume();
    req.on('end', () => res.end('timed'));
  });
  t.after(() => site.server.close());
  return site;
}

async function intercepting(t: TestContext, ...args: Parameters<typeof startIntercepting>): Promise<Intercepting> {
  const mitm = await startIntercepting(...args);
  t.after(() => mitm.close());
  return mitm;
}

test('an intercepted request on a new connection to the origin carries its DNS, connect and TLS time; one on the reused connection has none', { timeout: 60_000 }, async (t) => {
  const site = await origin(t);
  const mitm = await intercepting(t, site.files.ca);
  const url = `https://localhost:${site.port}`;
  // One curl, two requests: the second goes out on the pooled connection the first opened.
  const fetched = await run('curl', ['-sS', '--proxy', mitm.proxy, '--cacert', mitm.ca, `${url}/first`, `${url}/second`]);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.equal(fetched.stdout, 'timedtimed');
  const [first, second] = await waitFor('both decrypted requests', () => {
    const found = ['/first', '/second'].map((path) => mitm.run.records.find((r) => r.path === path && r.tls?.decrypted === true && r.durationMs !== undefined));
    return found.every((r) => r !== undefined) ? found : undefined;
  });
  assert.equal(typeof first?.dnsMs, 'number', 'the name was resolved for the new connection');
  assert.equal(typeof first?.connectMs, 'number');
  assert.equal(typeof first?.tlsMs, 'number', 'the TLS handshake with the origin');
  assert.equal(second?.dnsMs, undefined, 'a reused connection resolved nothing');
  assert.equal(second?.connectMs, undefined);

  const har = toHar(await mitm.debug.list(100), 'test');
  const entry = har.log.entries.find((e) => e.request.url === `${url}/first`);
  assert.ok(entry);
  assert.ok(entry.timings.dns >= 0, `HAR timings.dns: ${JSON.stringify(entry.timings)}`);
  assert.ok(entry.timings.connect >= entry.timings.ssl && entry.timings.ssl >= 0, 'HAR counts TLS inside connect');
  assert.equal(har.log.entries.find((e) => e.request.url === `${url}/second`)?.timings.dns, -1, 'HAR: does not apply on a reused connection');
  const tail = trafficEventLines('response', first!, false);
  assert.ok(tail.some((line) => /^ {2}Timing: dns=\d+ms connect=\d+ms tls=\d+ms wait=\d+ms receive=\d+ms$/.test(line)), tail.join('\n'));
});

test('a tunnel that is not decrypted carries the DNS time of its dial in its record, HAR metadata entry and debug tail', { timeout: 60_000 }, async (t) => {
  const site = await origin(t);
  const mitm = await intercepting(t, site.files.ca, { ignoreHosts: ['localhost'] });
  const fetched = await run('curl', ['-sS', '--proxy', mitm.proxy, '--cacert', site.files.ca, `https://localhost:${site.port}/tunnelled`]);
  assert.equal(fetched.code, 0, fetched.stderr);
  const tunnel = await waitFor('the tunnel', () => mitm.run.records.find((r) => r.protocol === 'connect' && r.durationMs !== undefined));
  assert.notEqual(tunnel.tls?.decrypted, true);
  assert.equal(typeof tunnel.dnsMs, 'number', 'the dial resolved localhost');
  const entry = toHar(await mitm.debug.list(100), 'test').log.entries.find((e) => e.request.method === 'CONNECT');
  assert.equal(entry?._tunnel?.decrypted, false);
  assert.ok((entry?.timings.dns ?? -1) >= 0, `HAR timings.dns: ${JSON.stringify(entry?.timings)}`);
  assert.ok(trafficEventLines('response', tunnel, false).some((line) => /^ {2}Timing: dns=\d+ms connect=\d+ms/.test(line)));
});

test('an intercepted tunnel is read live like any tunnel, and its bytes count once in proxy_request_bytes_total (its decrypted requests travelled inside them)', { timeout: 60_000 }, async (t) => {
  const site = await origin(t);
  const mitm = await intercepting(t, site.files.ca, {}, snapshot(undefined, undefined, { metrics: METRICS_ON }));
  // A kept-open tunnel: CONNECT, then TLS to the interception front, one request answered.
  const raw = connect(mitm.run.http.port, '127.0.0.1');
  t.after(() => raw.destroy());
  await once(raw, 'connect');
  raw.write(`CONNECT localhost:${site.port} HTTP/1.1\r\nHost: localhost:${site.port}\r\n\r\n`);
  await once(raw, 'data');
  const secure = tlsConnect({ socket: raw, servername: 'localhost', ca: readFileSync(mitm.ca) });
  await once(secure, 'secureConnect');
  secure.write(`GET /live HTTP/1.1\r\nHost: localhost:${site.port}\r\n\r\n`);
  await waitFor('the answer inside the tunnel', async () => ((await once(secure, 'data'))[0] as Buffer).toString().includes('timed') || undefined);
  const open = await waitFor('the open tunnel with bytes so far', async () => (await mitm.run.engine.openConnections()).find((r) => r.protocol === 'connect' && r.bytesIn > 0 && r.bytesOut > 0));
  assert.equal(open.tls?.decrypted, true);
  secure.end();
  const tunnel = await waitFor('the tunnel ended', () => mitm.run.records.find((r) => r.protocol === 'connect' && r.durationMs !== undefined));
  await waitFor('the request ended', () => mitm.run.records.find((r) => r.path === '/live' && r.durationMs !== undefined));
  const metrics = await scrape(mitm.run.engine);
  assert.equal(metrics.get('proxy_request_bytes_total{direction="in"}'), tunnel.bytesIn, 'the bytes on the wire: the tunnel\'s, once');
  assert.equal(metrics.get('proxy_request_bytes_total{direction="out"}'), tunnel.bytesOut);
});
