import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '../helpers/ports.js';
import { sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/simple-proxy-server.js');

/** Why the test cannot run here (it needs its own /etc/hosts: root and a mount namespace), or null. */
function missing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to give the daemon its own /etc/hosts (a private mount namespace)';
  if (spawnSync('unshare', ['--mount', 'true']).status !== 0) return 'unshare --mount is not available';
  return null;
}

/** An origin on one loopback address that answers with the family it was reached over. */
async function origin(t: TestContext, host: string, port: number, answer: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(answer));
  server.listen(port, host);
  await once(server, 'listening');
  t.after(() => void server.close());
  return server;
}

test('prefer_ipv6 picks the family for a name with both an A and an AAAA address, for plain HTTP, CONNECT and SOCKS5', { skip: missing() ?? false, timeout: 90_000 }, async (t) => {
  // The same port on 127.0.0.1 and ::1, so only the address family tells the two apart.
  const v4 = await origin(t, '127.0.0.1', 0, 'v4');
  const port = (v4.address() as { port: number }).port;
  await origin(t, '::1', port, 'v6');

  for (const prefer of [false, true]) {
    const [httpPort, socksPort] = [await freePort(), await freePort()];
    const box = sandbox(`server:\n  http_port: ${httpPort}\n  socks5_port: ${socksPort}\n  workers: 1\nnetwork:\n  ipv6:\n    enabled: true\n    prefer_ipv6: ${prefer}\n${TRUSTED_LOOPBACK_YAML}`);
    t.after(() => box.cleanup());
    // A name with both families, seen only by this daemon: its own /etc/hosts in its own mount namespace.
    const hosts = join(box.dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost\n127.0.0.1 dual.test\n::1 dual.test\n');
    const daemon = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, process.execPath, BIN, 'start', '--foreground'], {
      cwd: box.dir,
      env: box.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    daemon.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    t.after(() => void daemon.kill('SIGTERM'));
    await waitForPort(httpPort, daemon, 'the daemon', () => stderr);

    const want = prefer ? 'v6' : 'v4';
    const url = `http://dual.test:${port}/`;
    const curl = async (args: string[]): Promise<string> => (await run('curl', ['-s', '--max-time', '10', ...args, url])).stdout;
    assert.equal(await curl(['-x', `http://127.0.0.1:${httpPort}`]), want, `prefer_ipv6: ${prefer}, plain HTTP`);
    assert.equal(await curl(['-p', '-x', `http://127.0.0.1:${httpPort}`]), want, `prefer_ipv6: ${prefer}, CONNECT`);
    assert.equal(await curl(['--socks5-hostname', `127.0.0.1:${socksPort}`]), want, `prefer_ipv6: ${prefer}, SOCKS5`);
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
  }
});
