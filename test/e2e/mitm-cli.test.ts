import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { startOrigin, type Origin } from '../helpers/https-origin.js';
import { run, waitFor } from '../helpers/run.js';
import type { Har } from '../../src/debug/har.js';
import type { ReplayReport } from '../../src/debug/replay.js';

const BODY = 'hello from the https origin\n';

/** A sandbox and an HTTPS origin (its own CA) answering BODY, both removed after the test; the config has `workers` and `rest` (given the origin) after the listeners. */
async function boxWithOrigin(t: TestContext, workers: number, rest: (site: Origin) => string): Promise<{ box: Sandbox; site: Origin }> {
  const box = sandbox('');
  t.after(() => box.cleanup());
  const site = await startOrigin(box.dir, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(BODY);
    });
  });
  t.after(() => site.server.close());
  writeFileSync(box.config, `server:\n  http_port: 0\n  socks5_port: 0\n  workers: ${workers}\n${TRUSTED_LOOPBACK_YAML}${rest(site)}`);
  return { box, site };
}

test('ca commands, debug mitm on|off live, decrypted requests in HAR and stats, replay through another backend; the CA key stays in the state dir', { timeout: 180_000 }, async (t) => {
  const { box, site } = await boxWithOrigin(
    t,
    1,
    (origin) => `backends:
  - name: direct
    type: direct
  - name: second
    type: direct
debug:
  enabled: true
  log_headers: true
  log_body: true
  max_body_log_size: 4096
  mitm:
    enabled: false
    upstream_ca_file: ${origin.files.ca}
`,
  );

  const made = await box.cli(['ca', 'init', '--json']);
  assert.equal(made.code, 0, made.stderr);
  const ca = JSON.parse(made.stdout) as { cert: string; created: boolean };
  assert.equal(ca.created, true);
  assert.ok(ca.cert.startsWith(join(box.dir, 'state')), 'in the state dir');
  const again = await box.cli(['ca', 'init']);
  assert.match(again.stdout, /the CA exists: .* \(pass --regenerate to replace it\)/);
  const before = readFileSync(ca.cert, 'utf8');
  const regenerated = await box.cli(['ca', 'init', '--regenerate']);
  assert.equal(regenerated.code, 0, regenerated.stderr);
  assert.match(regenerated.stderr, /Warning: the interception CA was replaced\. Clients that trusted the old one now refuse intercepted hosts/);
  assert.notEqual(readFileSync(ca.cert, 'utf8'), before, 'a new CA');
  assert.equal((await box.cli(['ca', 'path'])).stdout.trim(), ca.cert);
  const der = join(box.dir, 'ca.cer');
  assert.equal((await box.cli(['ca', 'export', '--format', 'der', '--output', der])).code, 0);
  assert.equal((await run('openssl', ['x509', '-inform', 'der', '-in', der, '-noout'])).code, 0, 'DER parses');
  const p12 = join(box.dir, 'ca.p12');
  assert.equal((await box.cli(['ca', 'export', '--format', 'p12', '--output', p12])).code, 0);
  const bag = await run('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:', '-nodes']);
  assert.equal(bag.code, 0, bag.stderr);
  assert.match(bag.stdout, /BEGIN CERTIFICATE/);
  assert.doesNotMatch(bag.stdout, /PRIVATE KEY/, 'the key never leaves the state dir');
  const pem = await box.cli(['ca', 'export']);
  assert.equal(pem.stdout, readFileSync(ca.cert, 'utf8'));
  const help = JSON.parse((await box.cli(['ca', 'install-help', '--json'])).stdout) as { steps: { id: string; lines: string[] }[] };
  assert.deepEqual(help.steps.map((s) => s.id), ['debian', 'fedora', 'macos', 'windows', 'firefox', 'chromium', 'node', 'python', 'curl', 'java', 'android']);
  assert.ok(help.steps.find((s) => s.id === 'node')?.lines.includes(`export NODE_EXTRA_CA_CERTS=${ca.cert}`));

  const start = await box.cli(['start']);
  assert.equal(start.code, 0, start.stderr);
  const status = await box.status();
  const proxy = `http://127.0.0.1:${status.listeners.find((l) => l.kind === 'http')!.port}`;
  // Trusts both: the origin's own CA (tunnel end to end) and ours (intercepted).
  const bundle = join(box.dir, 'bundle.pem');
  writeFileSync(bundle, readFileSync(site.files.ca, 'utf8') + readFileSync(ca.cert, 'utf8'));
  const fetch = (path: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> => run('curl', ['-sS', '--proxy', proxy, '--cacert', bundle, ...extra, `https://localhost:${site.port}${path}`]);

  assert.equal((await fetch('/before')).stdout, BODY);
  const on = await box.cli(['debug', 'mitm', 'on']);
  assert.equal(on.code, 0, on.stderr);
  assert.equal((await fetch('/decrypted?q=1')).stdout, BODY);
  assert.equal((await fetch('/form', ['-d', 'a=1'])).stdout, BODY);
  const har = join(box.dir, 'traffic.har');
  const entries = await waitFor('the decrypted requests in HAR', async () => {
    assert.equal((await box.cli(['debug', 'export', '--output', har, '--force'])).code, 0);
    const doc = JSON.parse(readFileSync(har, 'utf8')) as Har;
    return doc.log.entries.some((e) => e.request.url.endsWith('/form')) ? doc.log.entries : undefined;
  });
  const decrypted = entries.find((e) => e.request.url === `https://localhost:${site.port}/decrypted?q=1`);
  assert.ok(decrypted, entries.map((e) => e.request.url).join('\n'));
  assert.equal(decrypted.response.content.text, BODY);
  assert.equal(entries.filter((e) => e.request.method === 'CONNECT' && e._tunnel?.decrypted === false).length, 1, 'the tunnel before "debug mitm on" is metadata, not decrypted');
  const stats = JSON.parse((await box.cli(['debug', 'stats', '--json'])).stdout) as { mitm: { active: boolean; intercepted: number } };
  assert.equal(stats.mitm.active, true);
  assert.ok(stats.mitm.intercepted >= 2);
  const statsText = (await box.cli(['debug', 'stats'])).stdout;
  assert.match(statsText, /https interception\s+on/);

  const list = JSON.parse((await run('curl', ['-s', '--unix-socket', status.socket as string, 'http://control/api/debug/traffic?limit=100'])).stdout) as { records: { id: string; path?: string; method: string; tls?: { decrypted: boolean } }[] };
  const get = list.records.find((r) => r.path === '/decrypted?q=1')!;
  const replay = await box.cli(['debug', 'replay', get.id, '--backend', 'second', '--json']);
  assert.equal(replay.code, 0, replay.stderr);
  const report = JSON.parse(replay.stdout) as ReplayReport;
  assert.equal(report.original.backend, 'direct');
  assert.equal(report.replay.backend, 'second');
  assert.equal(report.replay.status, 200);
  assert.equal(report.replay.sha256, report.original.sha256, 'the same body through the other backend');
  const side = await box.cli(['debug', 'replay', get.id]);
  assert.match(side.stdout, /status\s+200\s+200\s+same/);
  const post = list.records.find((r) => r.path === '/form')!;
  const refused = await box.cli(['debug', 'replay', post.id]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /POST is not idempotent.*--force/);
  assert.equal((await box.cli(['debug', 'replay', post.id, '--force'])).code, 0);

  assert.equal((await box.cli(['debug', 'mitm', 'off'])).code, 0);
  assert.equal((await fetch('/after')).stdout, BODY);
  const after = await waitFor('the tunnel after "debug mitm off"', async () => {
    const now = JSON.parse((await run('curl', ['-s', '--unix-socket', status.socket as string, 'http://control/api/debug/traffic?limit=100'])).stdout) as typeof list;
    const tunnels = (records: typeof list.records): number => records.filter((r) => r.method === 'CONNECT').length;
    return tunnels(now.records) > tunnels(list.records) ? now.records : undefined;
  });
  assert.equal(after.filter((r) => r.path === '/after').length, 0, 'with interception off the request is not decrypted');
  const key = readFileSync(join(box.dir, 'state', 'server', 'ca', 'simple-proxy-ca-key.pem'), 'utf8').split('\n')[1];
  for (const text of [(await box.cli(['config', 'show'])).stdout, readFileSync(join(box.dir, 'state', 'server', 'daemon.log'), 'utf8'), readFileSync(har, 'utf8')]) assert.ok(!text.includes(key), 'the CA key appears nowhere else');
});

test('the server role intercepts only with a debug.mitm section in its config file', { timeout: 60_000 }, async (t) => {
  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const on = await box.cli(['debug', 'mitm', 'on']);
  assert.notEqual(on.code, 0);
  assert.match(on.stderr, /intercepts HTTPS only when its config file has a debug.mitm section/);
});

test('a daemon with engine workers: decrypted requests in debug tail with their DNS, connect and TLS time; debug replay trusts debug.mitm.upstream_ca_file as the original did', { timeout: 120_000 }, async (t) => {
  const { box, site } = await boxWithOrigin(
    t,
    2,
    (origin) => `debug:
  enabled: true
  log_body: true
  mitm:
    enabled: true
    upstream_ca_file: ${origin.files.ca}
`,
  );
  const start = await box.cli(['start']);
  assert.equal(start.code, 0, start.stderr);
  const status = await box.status();
  const proxy = `http://127.0.0.1:${status.listeners.find((l) => l.kind === 'http')!.port}`;
  const ca = (await box.cli(['ca', 'path'])).stdout.trim();
  const tail = spawn(process.execPath, [join(import.meta.dirname, '../../bin/simple-proxy-server.js'), 'debug', 'tail'], { env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tailText = '';
  let tailNotes = '';
  tail.stdout.on('data', (chunk) => (tailText += chunk));
  tail.stderr.on('data', (chunk) => (tailNotes += chunk));
  t.after(() => void tail.kill());
  await waitFor('the tail following', () => (tailNotes.includes('following live traffic') ? true : undefined));
  const original = await run('curl', ['-sS', '--proxy', proxy, '--cacert', ca, `https://localhost:${site.port}/private-ca`]);
  assert.equal(original.stdout, BODY, original.stderr);
  await waitFor('the decrypted request in the tail', () => (/\n {2}Timing: dns=\d+ms connect=\d+ms tls=\d+ms wait=/.test(tailText) ? true : undefined));
  assert.match(tailText, /\[REQ\] id=\w+ method=GET host=localhost:\d+ path=\/private-ca .*tls=decrypted/);
  tail.kill('SIGINT');
  const record = await waitFor('the decrypted request', async () => {
    const list = JSON.parse((await run('curl', ['-s', '--unix-socket', status.socket as string, 'http://control/api/debug/traffic?limit=100'])).stdout) as { records: { id: string; path?: string }[] };
    return list.records.find((r) => r.path === '/private-ca');
  });
  const replay = await box.cli(['debug', 'replay', record.id, '--json']);
  assert.equal(replay.code, 0, replay.stderr);
  const report = JSON.parse(replay.stdout) as ReplayReport;
  assert.equal(report.replay.error, undefined, 'the origin\'s private CA is trusted by the replay too');
  assert.equal(report.replay.status, 200);
  assert.equal(report.replay.sha256, report.original.sha256);
});
