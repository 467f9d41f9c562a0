import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../integration/health/pool-fixture.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { connectTunnel, echoServer, httpPort, sandbox } from './cli-harness.js';
import { dashboardCommand, NEEDS_TMUX, Tmux } from './tmux-harness.js';

test('dashboard Connections view under tmux: an open CONNECT tunnel is listed, x + y closes it, the tunnel ends and the list drops it', { skip: NEEDS_TMUX, timeout: 90_000 }, async (t) => {
  const echo = await echoServer();
  t.after(() => echo.close());
  const box = sandbox(`server:\n  http_port: 0\n  socks5_port: 0\n  workers: 1\n${TRUSTED_LOOPBACK_YAML}backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: Default, match: { domains: ["*"] }, backend: direct }\n`);
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const tunnel = await connectTunnel(httpPort(await box.status()), echo.port);
  t.after(() => void tunnel.socket.destroy());
  const target = `127.0.0.1:${echo.port}`;

  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(dashboardCommand(box.env), 120, 30);
  const panes = await tmux.waitFor('the connected status line', (s) => s.includes('● connected') && s.includes('Traffic'));
  assert.match(panes, /o connections/, 'the footer names the key');

  await tmux.keys('o');
  const listed = await tmux.waitFor('the tunnel in the Connections view', (s) => s.includes('Connections 1 open') && s.includes(target));
  const row = listed.split('\n').find((line) => line.includes(target)) ?? '';
  assert.match(row, new RegExp(`\\d+(?:\\.\\d)?(?:ms|s|m) +127\\.0\\.0\\.1:\\d+ +- +connect +${target.replace(/\./g, '\\.')} +Default +direct +-`), `age, client, user, protocol, target, rule, backend, bytes (a tunnel's count at its end): ${row}`);
  assert.match(listed, /x close {2}X close all/, 'the footer lists the view keys');

  await tmux.keys('?');
  assert.match(await tmux.waitFor('the help of the view', (s) => s.includes('connections view')), /x +close the selected connection/);
  await tmux.keys('Space');
  await tmux.waitFor('the view again', (s) => s.includes('Connections 1 open'));

  await tmux.keys('x');
  await tmux.waitFor('the confirmation', (s) => /close connection \S+\? y\/n/.test(s));
  assert.equal(tunnel.closed(), false, 'nothing closed before y');
  await tmux.keys('y');
  const after = await tmux.waitFor('the result and the emptied list', (s) => s.includes('closed 1 connection') && s.includes('no open connections'));
  assert.doesNotMatch(after, new RegExp(target.replace(/\./g, '\\.')));
  await until(() => tunnel.closed(), 15_000, 'the client side of the tunnel ends');

  await tmux.keys('q');
});
