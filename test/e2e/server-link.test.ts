import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { origin } from '../integration/policy/policy-fixture.js';
import { until } from '../integration/health/pool-fixture.js';
import { peerUnavailable, startPeer } from '../helpers/peers.js';
import { sandbox, type Sandbox } from './cli-harness.js';

const USER = 'alice';
const PASSWORD = 'link-Secret-4k';

/** A client role whose rule for 127.0.0.1 goes to a SOCKS5 server with credentials. */
const clientConfig = (serverPort: number, password: string): string => `client:
  http_port: 0
  socks5_port: 0
server:
  address: "127.0.0.1:${serverPort}"
  protocol: socks5
  auth: { enabled: true, username: ${USER}, password: "${password}" }
rules:
  - name: via server
    match: { domains: ["127.0.0.1"] }
    action: server
  - name: everything else direct
    match: { domains: ["*"] }
    action: direct
`;

interface Link {
  state: string;
  since: string | null;
  latencyMs: number | null;
  lastError: { at: string; message: string } | null;
  credentials: string;
}

const link = async (box: Sandbox): Promise<Link> => (await box.status()).server as Link;

/** Waits (bounded) until the client's status shows its server link as `want` says. */
async function linkUntil(box: Sandbox, want: (l: Link) => boolean, what: string): Promise<Link> {
  let last: Link | undefined;
  await until(async () => want((last = await link(box))), 30_000, `${what} (last: ${JSON.stringify(last)})`);
  return last!;
}

const curlVia = async (box: Sandbox, url: string): Promise<string> => {
  const port = ((await box.status()).listeners.find((l) => l.kind === 'http')!).port;
  return new Promise((resolve) => execFile('curl', ['-s', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${port}`, url], { timeout: 15_000 }, (_e, stdout) => resolve(stdout)));
};

test('client status shows its server: reachable since when with latency, credentials from traffic; a stopped server shows as unreachable with the last error; refused credentials say so', { skip: peerUnavailable('microsocks') ?? false, timeout: 120_000 }, async (t) => {
  const site = await origin();
  t.after(() => {
    site.server.closeAllConnections();
    site.server.close();
  });
  const url = `http://127.0.0.1:${site.port}/`;
  const server = await startPeer('microsocks', { username: USER, password: PASSWORD });
  t.after(() => server.stop());
  const box = sandbox(clientConfig(server.port, PASSWORD), 'client');
  t.after(() => box.cleanup());
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);

  // The light check finds it at once; the credentials are known only once traffic used them.
  const up = await linkUntil(box, (l) => l.state === 'reachable', 'the server reachable');
  assert.equal(up.credentials, 'unverified');
  assert.ok(up.since && up.latencyMs !== null);
  assert.equal(await curlVia(box, url), '200');
  await linkUntil(box, (l) => l.credentials === 'accepted', 'credentials accepted');
  const text = await box.cli(['status']);
  assert.match(text.stdout, new RegExp(`\\nserver +socks5 127\\.0\\.0\\.1:${server.port} reachable since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, \\d+ ms, credentials accepted\\n`), text.stdout);
  assert.match(text.stdout, /\nserver +server +127\.0\.0\.1:\d+ +available +healthy /, 'the backends table has a health column');

  // Stopped: live traffic fails, and status says so without waiting for the next check.
  await server.stop();
  for (let i = 0; i < 2; i++) assert.equal(await curlVia(box, url), '502');
  const down = await linkUntil(box, (l) => l.state === 'unreachable', 'the server unreachable');
  assert.match(down.lastError?.message ?? '', /ECONNREFUSED|refused/i);
  const downText = (await box.cli(['status'])).stdout;
  assert.match(downText, new RegExp(`\\nserver +socks5 127\\.0\\.0\\.1:${server.port} unreachable since [^;]+, credentials accepted; last error [^:]+:\\d\\d:[\\d.]+Z: `), downText);
  assert.match(downText, /\nserver +server +127\.0\.0\.1:\d+ +available +unhealthy +\d+ +\d+ +2 connections in a row failed: upstream 127\.0\.0\.1:\d+: connection refused\n/, 'the backends table names why');
  const list = (await box.cli(['backend', 'list'])).stdout;
  assert.match(list, /\nserver +server +127\.0\.0\.1:\d+ +available +unhealthy /, list);

  // Another server that refuses these credentials: reachable, but status names the refusal.
  const strict = await startPeer('microsocks', { username: USER, password: 'another-Secret-1' });
  t.after(() => strict.stop());
  writeFileSync(box.config, clientConfig(strict.port, PASSWORD));
  const reload = await box.cli(['config', 'reload']);
  assert.equal(reload.code, 0, reload.stderr + reload.stdout);
  await linkUntil(box, (l) => l.state === 'reachable', 'the new server reachable');
  assert.equal(await curlVia(box, url), '502');
  const refused = await linkUntil(box, (l) => l.state === 'refused', 'the credentials refused');
  assert.equal(refused.credentials, 'refused');
  assert.match((await box.cli(['status'])).stdout, /\nserver +socks5 127\.0\.0\.1:\d+ reachable but refusing our credentials, credentials refused; last error [^\n]*authentication failed/);
});
