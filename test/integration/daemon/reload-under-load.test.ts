import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { curl, origin } from '../policy/policy-fixture.js';
import { startDaemonProcess } from './daemon-process.js';

const TUNNELS = 50;
const RELOADS = 100;

/** POST /api/config/reload on the control socket, as `config reload` does; resolves with the status. */
function reload(socket: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/api/config/reload', method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Sends a line through a tunnel to the echo origin and resolves with what came back (bounded). */
function echo(socket: Socket, line: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += String(chunk);
      if (got.length >= line.length) done();
    };
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(got);
    };
    const timer = setTimeout(done, 10_000);
    socket.on('data', onData);
    socket.write(line);
  });
}

test(`${RELOADS} reloads (each a changed config) with ${TUNNELS} tunnels open and requests flowing: every reload applies, no tunnel or request is lost`, { timeout: 120_000 }, async (t) => {
  const echoServer = createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
  await once(echoServer, 'listening');
  t.after(() => echoServer.close());
  const echoPort = (echoServer.address() as { port: number }).port;
  const site = await origin();
  t.after(() => site.server.close());
  const daemon = await startDaemonProcess('', 2);
  t.after(() => daemon.stop());

  const tunnels: Socket[] = [];
  t.after(() => tunnels.forEach((s) => s.destroy()));
  for (let i = 0; i < TUNNELS; i++) {
    const socket = connect({ port: daemon.port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
    const [reply] = (await once(socket, 'data')) as [Buffer];
    assert.match(String(reply), /^HTTP\/1\.1 200/);
    tunnels.push(socket);
  }

  const base = readFileSync(daemon.config, 'utf8');
  const statuses: number[] = [];
  const answers: string[] = [];
  for (let i = 0; i < RELOADS; i++) {
    // Each reload swaps in a different snapshot: a rule that only this round has.
    writeFileSync(daemon.config, `${base}  - { name: round-${i}, match: { domains: ["round-${i}.invalid"] }, backend: direct }\n`);
    const [status] = await Promise.all([
      reload(daemon.socket),
      i % 10 === 0 ? curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${daemon.port}`, `http://127.0.0.1:${site.port}/`]).then((r) => void answers.push(r.stdout)) : undefined,
    ]);
    statuses.push(status);
    if (i % 25 === 24) {
      const echoed = await Promise.all(tunnels.map((s, n) => echo(s, `round ${i} tunnel ${n}\n`)));
      echoed.forEach((got, n) => assert.equal(got, `round ${i} tunnel ${n}\n`, `tunnel ${n} after ${i + 1} reloads`));
    }
  }
  assert.deepEqual(new Set(statuses), new Set([200]), 'every reload applied');
  assert.deepEqual(new Set(answers), new Set(['200']), 'every request during the reloads answered');
  assert.equal(tunnels.filter((s) => s.destroyed).length, 0, 'no tunnel closed');
  assert.ok(daemon.alive());
});
