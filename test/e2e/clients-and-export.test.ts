import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../src/control/control-client.js';
import { echoServer, httpPort, okOrigin, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

test('GET /api/clients lists the users connected now apart from those seen before; debug export does not overwrite a file without --force', { timeout: 120_000 }, async (t) => {
  const o = await okOrigin();
  t.after(() => o.server.close());
  const echo = await echoServer();
  t.after(() => echo.close());
  const echoPort = echo.port;
  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 2\n  auth:\n    mode: native\n${TRUSTED_LOOPBACK_YAML}`);
  t.after(() => box.cleanup());
  for (const [user, password] of [['ann', 'ann-Secret-1'], ['john', 'john-Secret-1']]) {
    const added = await box.cliWithInput(['user', 'add', '--username', user, '--password-stdin'], `${password}\n`);
    assert.equal(added.code, 0, added.stderr);
  }
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr + started.stdout);
  const status = await box.status();
  const port = httpPort(status);
  const control = new ControlClient({ kind: 'socket', path: status.socket as string }, 'server');

  const code = await new Promise<string>((done) => execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${port}`, '-U', 'ann:ann-Secret-1', `http://127.0.0.1:${o.port}/`], (_e, stdout) => done(stdout)));
  assert.equal(code, '200');
  const tunnel = connect(port, '127.0.0.1');
  t.after(() => tunnel.destroy());
  await once(tunnel, 'connect');
  tunnel.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\nProxy-Authorization: Basic ${Buffer.from('john:john-Secret-1').toString('base64')}\r\n\r\n`);
  const [answer] = (await once(tunnel, 'data')) as [Buffer];
  assert.match(answer.toString(), /^HTTP\/1\.1 200 /);

  const now = await control.call('clients');
  assert.equal(now.auth, 'native');
  assert.deepEqual(now.connected.map((c) => [c.user, c.connections]), [['john', 1]]);
  assert.deepEqual(now.seen.map((c) => [c.user, c.connections]), [['ann', 0]]);

  tunnel.destroy();
  const deadline = Date.now() + 20_000;
  let later = await control.call('clients');
  while (later.connected.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    later = await control.call('clients');
  }
  assert.deepEqual(later.connected, [], 'john left');
  assert.deepEqual(later.seen.map((c) => c.user).sort(), ['ann', 'john']);

  const har = join(box.dir, 'traffic.har');
  writeFileSync(har, 'keep me\n');
  const refused = await box.cli(['debug', 'export', '--output', har]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`^Error: ${har.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} already exists; pass --force to overwrite it$`, 'm'));
  assert.equal(readFileSync(har, 'utf8'), 'keep me\n', 'the file is left alone');
  const forced = await box.cli(['debug', 'export', '--output', har, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((JSON.parse(readFileSync(har, 'utf8')) as { log: { version: string } }).log.version, '1.2');
});
