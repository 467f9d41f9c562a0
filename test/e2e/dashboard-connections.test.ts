import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../integration/health/pool-fixture.js';
import { background, connectTunnel, echoServer, directOnly, httpPort, sandbox, trickleOrigin } from './cli-harness.js';
import { dashboardCommand, NEEDS_TMUX, Tmux } from './tmux-harness.js';

test('dashboard Connections view under tmux: an open CONNECT tunnel is listed, x + y closes it, the tunnel ends and the list drops it', { skip: NEEDS_TMUX, timeout: 90_000 }, async (t) => {
  const echo = await echoServer();
  t.after(() => echo.close());
  const box = sandbox(directOnly(1));
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
  assert.match(row, new RegExp(`\\d+(?:\\.\\d)?(?:ms|s|m) +127\\.0\\.0\\.1:\\d+ +- +connect +${target.replace(/\./g, '\\.')} +Default +direct +0B +0B +(?:-|0B/s)`), `age, client, user, protocol, target, rule, backend, bytes up, down, rate: ${row}`);
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

test('dashboard under tmux during a long download through 2 workers: the throughput chart and the Connections row show a non-zero rate before it ends', { skip: NEEDS_TMUX, timeout: 90_000 }, async (t) => {
  const origin = await trickleOrigin();
  t.after(() => origin.close());
  const box = sandbox(directOnly(2));
  t.after(() => box.cleanup());
  assert.equal((await box.cli(['start'])).code, 0);
  const tmux = new Tmux(box.dir);
  t.after(() => tmux.kill());
  tmux.start(dashboardCommand(box.env), 120, 30);
  await tmux.waitFor('the connected status line', (s) => s.includes('● connected') && s.includes('Throughput'));
  // The origin trickles until the test closes it: the download is under way whenever the screen is read.
  const download = background('curl', ['-s', '-o', '/dev/null', '--max-time', '60', '-p', '-x', `http://127.0.0.1:${httpPort(await box.status())}`, `http://127.0.0.1:${origin.port}/big`]);

  const chart = await tmux.waitFor('a non-zero bytes/s in the throughput pane', (s) => /bytes\/s (?!0B)\d+(?:\.\d)?[KM]/.test(s), 30_000);
  assert.match(chart, /req\/s 0 /, 'no request has ended yet: the bytes are those of the open tunnel');
  await tmux.keys('o');
  const target = `127.0.0.1:${origin.port}`;
  const listed = await tmux.waitFor('a rate on the tunnel row', (s) => s.split('\n').some((line) => line.includes(target) && /\d+(?:\.\d)?[KM]\/s/.test(line)), 30_000);
  assert.match(listed, /UP +DOWN +RATE/);
  const row = listed.split('\n').find((line) => line.includes(target)) ?? '';
  assert.match(row, /direct +\d+B +\d+(?:\.\d)?[KM] +\d+(?:\.\d)?[KM]\/s/, `bytes up, bytes down so far and the rate: ${row}`);
  assert.doesNotMatch(listed, /count when it ends/);
  await tmux.keys('q');
  origin.close();
  await download.done;
});
