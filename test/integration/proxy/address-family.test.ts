import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startEngine, snapshot } from './engine-fixture.js';

const run = promisify(execFile);

/** An origin on [::1], or null where this machine has no IPv6 loopback. */
async function ipv6Origin(): Promise<{ port: number; close(): void } | null> {
  const server = createServer((_req, res) => res.end('over ipv6'));
  try {
    server.listen(0, '::1');
    await once(server, 'listening');
  } catch {
    return null;
  }
  return { port: (server.address() as { port: number }).port, close: () => void server.close() };
}

/** The SOCKS5 reply code for a CONNECT to [::1]:port (greeting without auth, ATYP 4). */
async function socksReply(socksPort: number, port: number): Promise<number> {
  const socket = connect(socksPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(Buffer.from([5, 1, 0]));
  const address = Buffer.alloc(16);
  address[15] = 1;
  const request = Buffer.concat([Buffer.from([5, 1, 0, 4]), address, Buffer.from([port >> 8, port & 255])]);
  let seen = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    if (seen.length === 2) socket.write(request);
  });
  await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 5000))]);
  socket.destroy();
  assert.ok(seen.length >= 4, `a SOCKS5 reply arrived (${seen.toString('hex')})`);
  return seen[3];
}

test('network.ipv6.enabled: false keeps every dial on IPv4, literal IPv6 targets included', { timeout: 30_000 }, async (t) => {
  const origin = await ipv6Origin();
  if (!origin) return t.skip('no IPv6 loopback (::1) on this machine');
  t.after(() => origin.close());
  const on = await startEngine(snapshot());
  t.after(() => on.stop());
  const off = await startEngine(snapshot(undefined, undefined, { network: { ...snapshot().network, ipv6: { enabled: false, preferIpv6: false } } }));
  t.after(() => off.stop());

  const url = `http://[::1]:${origin.port}/`;
  const through = async (port: number): Promise<{ stdout: string }> => run('curl', ['-s', '-w', '\n%{http_code}', '-x', `http://127.0.0.1:${port}`, url]);
  assert.match((await through(on.http.port)).stdout, /over ipv6\n200$/);
  const refused = (await through(off.http.port)).stdout;
  assert.match(refused, /502$/, 'plain HTTP to an IPv6 literal is refused');
  assert.match(refused, /network\.ipv6\.enabled: false/, 'the refusal names the setting');

  const tunnel = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_connect}', '-p', '-x', `http://127.0.0.1:${off.http.port}`, url]).catch((error: { stdout: string }) => error);
  assert.equal(tunnel.stdout, '502', 'CONNECT to an IPv6 literal is refused');

  assert.equal(await socksReply(on.socks.port, origin.port), 0, 'SOCKS5 to [::1] succeeds with IPv6 on');
  assert.equal(await socksReply(off.socks.port, origin.port), 3, 'SOCKS5 answers "network unreachable" with IPv6 off');
});
