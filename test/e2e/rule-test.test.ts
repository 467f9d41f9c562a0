import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { hash } from '@node-rs/bcrypt';
import { ControlClient } from '../../src/control/control-client.js';
import type { RouteExplanation } from '../../src/routing/route-explanation.js';
import { okOrigin, sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const run = promisify(execFile);

async function config(): Promise<string> {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 1
  auth:
    mode: native
    native:
      users:
        - { username: alice, password_hash: "${await hash('alice-pw', 4)}", groups: [streaming] }
        - { username: bob, password_hash: "${await hash('bob-pw', 4)}", groups: [basic] }
    acl:
      - { group: streaming, backends: ["*"] }
      - { group: basic, backends: [other] }
${TRUSTED_LOOPBACK_YAML}backends:
  - { name: direct, type: direct }
  - { name: other, type: direct }
rules:
  - name: hashed
    match: { domains: [localhost] }
    backends: [{ name: direct, weight: 1 }, { name: other, weight: 1 }]
    load_balancing: { algorithm: ip_hash }
  - name: rotating
    match: { domains: [rr.test] }
    backends: [{ name: direct, weight: 1 }, { name: other, weight: 1 }]
  - name: default
    match: { domains: ["*"] }
    backend: direct
`;
}

test('rule test DOMAIN --client --user: the ip_hash member real traffic takes, per-connection choices, ACL refusals, and the daemon-less answer', { timeout: 120_000 }, async (t) => {
  const origin = createServer((_req, res) => res.end('ok'));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => origin.close());
  const originPort = (origin.address() as { port: number }).port;
  const box = sandbox(await config());
  t.after(() => box.cleanup());

  // Without a daemon the answer comes from the file, and says so.
  const offline = await box.cli(['rule', 'test', 'example.com', '--user', 'bob']);
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(offline.stdout.trimEnd().split('\n'), [
    `(no daemon: answered from ${box.config}; backend health is not known, every backend counts as healthy)`,
    'example.com -> rule #2 "default" (pattern *) -> backend direct',
    '  REFUSED: user "bob" (groups: basic): refused by the acl for direct (groups basic): 403 / SOCKS5 0x02',
  ]);

  assert.equal((await box.cli(['start'])).code, 0);
  const status = await box.status();
  const port = status.listeners.find((l) => l.kind === 'http')!.port;
  const control = new ControlClient({ kind: 'socket', path: (status as unknown as { socket: string }).socket }, 'server');

  // A client address that ip_hash sends to the second member (the first is what a naive answer would name).
  let client = '';
  for (let i = 2; i < 60 && !client; i++) {
    const probe = await control.call('ruleTest', { query: { domain: 'localhost', client: `127.0.0.${i}` } });
    if (probe.backend === 'other') client = `127.0.0.${i}`;
  }
  assert.ok(client, 'some loopback address hashes to "other"');
  const perClient = await box.cli(['rule', 'test', 'localhost', '--client', client, '--user', 'alice', '--json']);
  assert.equal(perClient.code, 0, perClient.stderr);
  const answer = JSON.parse(perClient.stdout) as RouteExplanation;
  assert.deepEqual([answer.rule?.name, answer.backend, answer.choice?.basis, answer.access?.allowed], ['hashed', 'other', 'client-address', true]);
  const human = await box.cli(['rule', 'test', 'localhost', '--client', client]);
  assert.deepEqual(human.stdout.trimEnd().split('\n'), [
    `localhost -> rule #0 "hashed" (pattern localhost) -> backend other (ip_hash of client ${client})`,
    '  also matches rule #2 "default" (pattern *), but the earlier rule wins',
  ]);

  // Real traffic from that address goes where the answer said.
  const before = (await control.call('stats')).backends;
  const { stdout } = await run('curl', ['-s', '--max-time', '10', '--interface', client, '-x', `http://alice:alice-pw@127.0.0.1:${port}`, `http://localhost:${originPort}/`]);
  assert.equal(stdout, 'ok');
  const after = (await control.call('stats')).backends;
  assert.equal((after.other?.total ?? 0) - (before.other?.total ?? 0), 1, 'the request went through "other"');

  const unknownClient = await box.cli(['rule', 'test', 'localhost']);
  assert.equal(unknownClient.stdout.split('\n')[0], 'localhost -> rule #0 "hashed" (pattern localhost) -> one of: direct, other (ip_hash: depends on the client address, give --client)');
  const rotating = await box.cli(['rule', 'test', 'rr.test', '--user', 'bob']);
  assert.deepEqual(rotating.stdout.trimEnd().split('\n').slice(0, 2), [
    'rr.test -> rule #1 "rotating" (pattern rr.test) -> one of: direct, other (round_robin: chosen per connection)',
    '  user "bob" (groups: basic): refused by the acl for direct (groups basic): 403 / SOCKS5 0x02',
  ]);
  const refused = await box.cli(['rule', 'test', 'example.com', '--user', 'bob']);
  assert.equal(refused.stdout.trim().split('\n')[1], '  REFUSED: user "bob" (groups: basic): refused by the acl for direct (groups basic): 403 / SOCKS5 0x02');
  const stranger = await box.cli(['rule', 'test', 'example.com', '--user', 'carol']);
  assert.equal(stranger.stdout.trim().split('\n')[1], '  REFUSED: user "carol": no native user "carol": its credentials are refused (407)');

  const bad = await box.cli(['rule', 'test', 'example.com', '--client', 'not-an-ip']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Error: --client: expected an IPv4 or IPv6 address$/m);
  const api = await control.call('ruleTest', { query: { domain: 'example.com', client: 'nope' } }).catch((error: Error) => error);
  assert.match(String(api), /client: expected an IPv4 or IPv6 address/, 'the control API validates the query too');
});

test('rule test --client: a client the IP lists refuse is reported refused with the reason, and curl from it is refused', { timeout: 120_000 }, async (t) => {
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const originPort = origin.port;
  const box = sandbox(`server:
  http_port: 0
  socks5_port: 0
  workers: 1
access_control:
  whitelist: ["127.0.0.0/29"]
  blacklist: ["127.0.0.3"]
  trusted_clients: ["127.0.0.0/8"]
`);
  t.after(() => box.cleanup());
  const route = 'localhost -> rule #0 "Default" (pattern *) -> backend direct';
  const lines = async (client: string): Promise<string[]> => (await box.cli(['rule', 'test', 'localhost', '--client', client])).stdout.trimEnd().split('\n');

  assert.deepEqual((await lines('127.0.0.3')).slice(1), [route, '  REFUSED: client 127.0.0.3: 127.0.0.3 is on access_control.blacklist: the connection is closed at accept']);
  assert.equal((await box.cli(['start'])).code, 0);
  const port = (await box.status()).listeners.find((l) => l.kind === 'http')!.port;
  assert.deepEqual(await lines('127.0.0.3'), [route, '  REFUSED: client 127.0.0.3: 127.0.0.3 is on access_control.blacklist: the connection is closed at accept']);
  assert.deepEqual(await lines('127.0.0.9'), [route, '  REFUSED: client 127.0.0.9: 127.0.0.9 is not on access_control.whitelist: the connection is closed at accept']);
  assert.deepEqual(await lines('127.0.0.2'), [route]);
  const json = JSON.parse((await box.cli(['rule', 'test', 'localhost', '--client', '127.0.0.9', '--json'])).stdout) as RouteExplanation;
  assert.equal(json.clientRefused, '127.0.0.9 is not on access_control.whitelist');

  // What the proxy really does with each of those clients.
  const curl = (client: string): Promise<string> =>
    run('curl', ['-s', '--max-time', '10', '-w', '%{http_code}', '--interface', client, '-x', `http://127.0.0.1:${port}`, `http://localhost:${originPort}/`]).then(
      (r) => r.stdout,
      (error: { stdout: string }) => error.stdout,
    );
  assert.equal(await curl('127.0.0.2'), 'ok /200');
  assert.equal(await curl('127.0.0.3'), '000');
  assert.equal(await curl('127.0.0.9'), '000');
});
