import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../../src/config/load.js';
import { RemoteConfig } from '../../../src/config/remote-config.js';
import { startOrigin } from '../../helpers/https-origin.js';

/* RemoteConfig against a real HTTPS origin on loopback (its CA made here), in process. */

const rules = (...names: string[]): string => `rules:\n${names.map((n) => `  - { name: ${n}, match: { domains: ["${n}.example"] }, backend: direct }\n`).join('')}`;
const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

test('RemoteConfig: If-None-Match with the ETag in force, 304 is nothing new, a refused body is not refused again each interval, the last good copy is kept 0600 and runs when the origin is down at start', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-remote-config-'));
  let current = rules('a');
  const asked: (string | undefined)[] = [];
  const origin = await startOrigin(dir, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const etag = `"${hash(current).slice(0, 12)}"`;
    asked.push(req.headers['if-none-match'] as string | undefined);
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag }).end(current);
  });
  t.after(() => {
    origin.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `https://localhost:${origin.port}/server.yaml`;
  const local = (extra = ''): ReturnType<typeof parseConfigText> => parseConfigText(`config:\n  source:\n    url: ${url}\n    ca_file: ${origin.files.ca}\n${extra}`, join(dir, 'server-config.yaml'), 'server');
  const cache = join(dir, 'state');
  const remote = new RemoteConfig(cache);

  const first = (await remote.load(local(), 'server', 'start'))!;
  assert.deepEqual(first.rules.map((r) => r.name), ['a']);
  assert.equal(first.source, join(dir, 'server-config.yaml'));
  assert.equal(remote.commit(first.version), null);
  assert.equal(statSync(join(cache, 'config.yaml')).mode & 0o777, 0o600);
  assert.equal(remote.status(first.configSource)!.result, 'applied');

  assert.equal(await remote.load(local(), 'server', 'poll'), null, '304: nothing new');
  assert.equal(asked.at(-1), `"${hash(rules('a')).slice(0, 12)}"`, 'asked with the ETag in force');
  assert.equal(remote.status(first.configSource)!.result, 'not modified');

  current = 'rules: [ { name: b, match: { domains: ["*"] }, backend: nowhere } ]\n';
  await assert.rejects(remote.load(local(), 'server', 'poll'), /^ConfigError: https:\/\/localhost:\d+\/server\.yaml:1:\d+: rules\[0\]\.backend: unknown backend "nowhere"/);
  assert.equal(await remote.load(local(), 'server', 'poll'), null, 'the same refused body is not refused (and logged) again');
  assert.equal(remote.status(first.configSource)!.result, 'invalid');
  await assert.rejects(remote.load(local(), 'server', 'reload'), /unknown backend "nowhere"/, 'a reload asked for says it again');

  current = rules('a', 'c');
  await assert.rejects(remote.load(local(`    sha256: ${hash(rules('a'))}\n`), 'server', 'poll'), /body's sha256 is \w+, but config\.source\.sha256 pins/);
  const next = (await remote.load(local(`    sha256: ${hash(rules('a', 'c'))}\n`), 'server', 'poll'))!;
  assert.deepEqual(next.rules.map((r) => r.name), ['a', 'c']);
  remote.commit(next.version);

  // Down at start: a new process starts from the kept copy, with a warning; without one it fails naming the URL.
  origin.server.close();
  const restarted = (await new RemoteConfig(cache).load(local(), 'server', 'start'))!;
  assert.deepEqual(restarted.rules.map((r) => r.name), ['a', 'c']);
  assert.match(restarted.warnings[0], /^config\.source: cannot fetch https:\/\/localhost:\d+\/server\.yaml: connect ECONNREFUSED .*; started from the last good copy \(fetched /);
  await assert.rejects(new RemoteConfig(join(dir, 'empty')).load(local(), 'server', 'start'), { code: 'CONFIG_UNREACHABLE', message: /^cannot fetch https:\/\/localhost:\d+\/server\.yaml: connect ECONNREFUSED/ });
  await assert.rejects(new RemoteConfig(cache).load(local(`    sha256: ${hash('other')}\n`), 'server', 'start'), { code: 'CONFIG_UNREACHABLE' }, 'a kept copy that does not match the pin is not used');
});
