import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type Origin } from '../helpers/https-origin.js';
import { waitFor } from '../helpers/run.js';
import { sandbox, type Sandbox } from './cli-harness.js';

/*
 * config.source end to end: a real HTTPS origin (its CA made by the test) serves the config with
 * ETags; the daemons run from bin/ against dist/.
 */

const SECRET = 'upstream-pass-7f3c9a';

/** A server config whose rules are `names`, with an upstream password that must never reach a log. */
function body(...names: string[]): string {
  const rules = names.map((n) => `  - name: ${n}\n    match: { domains: ["${n.toLowerCase()}.example"] }\n    backend: direct\n`).join('');
  return `server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\nbackends:\n  - name: direct\n    type: direct\n  - name: upstream\n    type: http\n    proxy: { address: "127.0.0.1:9", username: fleet, password: ${SECRET} }\nrules:\n${rules}  - name: Default\n    match: { domains: ["*"] }\n    backend: direct\n`;
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The config origin: serves `current` with a strong ETag, 304 to a matching If-None-Match; remembers what it was asked. */
interface ConfigOrigin {
  origin: Origin;
  url: string;
  current: string;
  asked: { ifNoneMatch: string | undefined; status: number }[];
  close(): Promise<void>;
}

async function configOrigin(dir: string, text: string): Promise<ConfigOrigin> {
  const state: Omit<ConfigOrigin, 'origin' | 'url' | 'close'> = { current: text, asked: [] };
  const origin = await startOrigin(dir, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const etag = `"${hash(state.current).slice(0, 16)}"`;
    const ifNoneMatch = req.headers['if-none-match'] as string | undefined;
    const status = ifNoneMatch === etag ? 304 : 200;
    state.asked.push({ ifNoneMatch, status });
    res.writeHead(status, { etag, 'content-type': 'application/yaml' });
    if (status === 200) res.end(state.current);
    else res.end();
  });
  return Object.assign(state, {
    origin,
    url: `https://localhost:${origin.port}/fleet/server.yaml`,
    close: () => new Promise<void>((resolve) => origin.server.close(() => resolve())),
  }) as ConfigOrigin;
}

const pointer = (url: string, ca: string, extra = ''): string => `config:\n  source:\n    url: ${url}\n    ca_file: ${ca}\n${extra}`;

interface Remote {
  url: string;
  from: string;
  result: string | null;
  error: string | null;
  etag: string | null;
}

async function remote(box: Sandbox): Promise<{ version: string; remote: Remote; reloads: number }> {
  const status = (await box.status()) as unknown as { config: { version: string; remote: Remote }; reloads: { total: number } };
  return { version: status.config.version, remote: status.config.remote, reloads: status.reloads.total };
}

async function ruleNames(box: Sandbox): Promise<string> {
  const listed = await box.cli(['rule', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout;
}

function daemonLog(box: Sandbox): string {
  const state = join(box.dir, 'state');
  return readdirSync(state, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(join(state, f), 'utf8'))
    .join('');
}

test('config.source: starts from the URL, 304 changes nothing, a new body is applied, a bad one is kept out and shown, edits are refused, an unreachable origin at start runs the last good copy', { timeout: 180_000 }, async (t) => {
  const originDir = mkdtempSync(join(tmpdir(), 'sp-config-origin-'));
  const source = await configOrigin(originDir, body('Alpha'));
  const box = sandbox(pointer(source.url, join(originDir, 'ca.crt'), '    interval: 1s\n'));
  t.after(async () => {
    await box.cleanup();
    await source.close();
    rmSync(originDir, { recursive: true, force: true });
  });

  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  assert.match(started.stdout, /^  source   https:\/\/localhost:\d+\/fleet\/server\.yaml \(config\.source\)$/m);
  assert.match(await ruleNames(box), /Alpha/);
  const first = await remote(box);
  assert.equal(first.remote.url, source.url);
  // 1s on a loaded machine: the first interval may already have asked again (304).
  assert.match(first.remote.result ?? '', /^(applied|not modified)$/);
  assert.equal(first.remote.from, 'url');
  assert.ok(first.remote.etag, 'the ETag of the body in force is shown');

  // The interval asks with If-None-Match; a 304 changes nothing.
  await waitFor('a conditional fetch answered 304', () => (source.asked.some((a) => a.status === 304 && a.ifNoneMatch === first.remote.etag) ? true : undefined), 30_000);
  const unchanged = await remote(box);
  assert.equal(unchanged.version, first.version);
  assert.equal(unchanged.reloads, 0, 'a 304 is no reload');
  assert.equal(unchanged.remote.result, 'not modified');
  const human = await box.cli(['status']);
  assert.match(human.stdout, new RegExp(`^source +${source.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} +\\[every 1s, etag "`, 'm'));

  // A new body goes through the reload path.
  source.current = body('Alpha', 'Bravo');
  await waitFor('the new body applied', async () => ((await ruleNames(box)).includes('Bravo') ? true : undefined), 30_000);
  const applied = await remote(box);
  assert.notEqual(applied.version, first.version);
  assert.match(applied.remote.result ?? '', /^(applied|not modified)$/);
  assert.ok(applied.reloads >= 1, 'applied through the reload path');

  // A body that does not validate is kept out; why, with the URL, line and column, is in status.
  source.current = body('Alpha', 'Bravo').replace('backend: direct\n  - name: Default', 'backend: nowhere\n  - name: Default');
  const refused = await waitFor('the bad body refused', async () => {
    const now = await remote(box);
    return now.remote.result === 'invalid' ? now : undefined;
  }, 30_000);
  assert.match(refused.remote.error ?? '', new RegExp(`${source.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: rules\\[1\\]\\.backend: unknown backend "nowhere"`));
  assert.equal(refused.version, applied.version, 'the running config stays');
  assert.match(await ruleNames(box), /Bravo/);
  const reload = await box.cli(['config', 'reload']);
  assert.equal(reload.code, 3, 'config reload fetches now and reports the same problem');
  assert.match(reload.stderr, /:\d+:\d+: rules\[1\]\.backend: unknown backend "nowhere"/);

  // The source of truth is remote: edits are refused, through the daemon and on the file.
  for (const args of [['rule', 'add', '--name', 'Charlie', '--domain', 'charlie.example', '--backend', 'direct'], ['rule', 'add', '--name', 'Charlie', '--domain', 'charlie.example', '--backend', 'direct', '--config', box.config]]) {
    const edit = await box.cli(args);
    assert.equal(edit.code, 2, edit.stderr);
    assert.match(edit.stderr, /the config comes from https:\/\/localhost:\d+\/fleet\/server\.yaml \(config\.source\): edit it there/);
  }
  assert.doesNotMatch(readFileSync(box.config, 'utf8'), /Charlie/);

  // The last good copy (Bravo, not the refused body) is kept 0600 and runs when the origin is down at start.
  assert.equal((await box.cli(['stop'])).code, 0);
  const kept = readdirSync(join(box.dir, 'state'), { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith(join('config-source', 'config.yaml')));
  assert.ok(kept, 'a last good copy is kept in the state dir');
  assert.equal(statSync(join(box.dir, 'state', kept)).mode & 0o777, 0o600);
  await source.close();
  const offline = await box.cli(['start']);
  assert.equal(offline.code, 0, offline.stderr + offline.stdout);
  assert.match(offline.stdout, /warning: config\.source: cannot fetch https:\/\/localhost:\d+\/fleet\/server\.yaml: .*; started from the last good copy \(fetched /);
  assert.match(await ruleNames(box), /Bravo/);
  const fallback = await remote(box);
  assert.equal(fallback.remote.from, 'last good copy');
  assert.equal(fallback.remote.result, 'unreachable');

  assert.ok(!daemonLog(box).includes(SECRET), 'the fetched config\'s secrets never reach the log');
  assert.ok(!JSON.stringify(await box.status()).includes(SECRET));
});

test('config.source: a sha256 pin refuses another body, config reload fetches now, no origin and no copy at start fails naming the URL, plain http is refused', { timeout: 120_000 }, async (t) => {
  const originDir = mkdtempSync(join(tmpdir(), 'sp-config-origin-'));
  const source = await configOrigin(originDir, body('Alpha'));
  const ca = join(originDir, 'ca.crt');
  const box = sandbox(pointer(source.url, ca, `    sha256: ${hash('something else')}\n`));
  t.after(async () => {
    await box.cleanup();
    await source.close();
    rmSync(originDir, { recursive: true, force: true });
  });

  const mismatch = await box.cli(['start']);
  assert.equal(mismatch.code, 3, mismatch.stdout);
  assert.match(mismatch.stderr, new RegExp(`body's sha256 is ${hash(body('Alpha'))}, but config\\.source\\.sha256 pins ${hash('something else')}`));

  writeFileSync(box.config, pointer(source.url, ca, `    sha256: ${hash(body('Alpha'))}\n    interval: 1h\n`));
  assert.equal((await box.cli(['start'])).code, 0);
  assert.match(await ruleNames(box), /Alpha/);
  source.current = body('Alpha', 'Bravo');
  const pinned = await box.cli(['config', 'reload']);
  assert.equal(pinned.code, 3);
  assert.match(pinned.stderr, /config\.source\.sha256 pins/);
  assert.equal((await remote(box)).remote.result, 'pin mismatch');
  assert.doesNotMatch(await ruleNames(box), /Bravo/);

  // The pin moves with the body: config reload fetches at once, without waiting for the hour.
  writeFileSync(box.config, pointer(source.url, ca, `    sha256: ${hash(body('Alpha', 'Bravo'))}\n    interval: 1h\n`));
  const reload = await box.cli(['config', 'reload']);
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stdout, /Bravo/);
  assert.match(await ruleNames(box), /Bravo/);
  const validated = await box.cli(['config', 'validate', '--config', box.config]);
  assert.equal(validated.code, 0, validated.stderr);
  assert.match(validated.stdout, /server-config\.yaml \(config\.source https:\/\/localhost:\d+\/fleet\/server\.yaml\): valid \(version \w+, 2 backends, 3 rules\)/);
  assert.equal((await box.cli(['stop'])).code, 0);

  // No origin and no copy kept: start fails, naming the URL and why.
  await source.close();
  rmSync(join(box.dir, 'state'), { recursive: true, force: true });
  const down = await box.cli(['start']);
  assert.equal(down.code, 3, down.stdout);
  assert.match(down.stderr, /cannot fetch https:\/\/localhost:\d+\/fleet\/server\.yaml: connect ECONNREFUSED/);

  writeFileSync(box.config, pointer(source.url.replace('https:', 'http:'), ca));
  const plain = await box.cli(['config', 'validate']);
  assert.equal(plain.code, 3);
  assert.match(plain.stderr, /server-config\.yaml:3:10: config\.source\.url: expected an https:\/\/ URL \(plain http is refused/);
});
