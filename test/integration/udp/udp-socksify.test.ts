import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON, until } from './udp-fixture.js';

const DNSD = fileURLToPath(new URL('../../testbed/dnsd.py', import.meta.url));
const ENGINE = fileURLToPath(new URL('./engine-peer.ts', import.meta.url));
/** Not on any interface (the Dante client sends interface networks direct), yet local in the namespace. */
const DNS_ADDRESS = '10.99.0.53';

function unavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root for a network namespace';
  for (const tool of ['socksify', 'dig', 'ip', 'strace']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is missing`;
  return false;
}

/** Starts a process inside the namespace; it is stopped after the test. Its stdout is collected. */
function inside(t: TestContext, netns: string, argv: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.resume();
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await new Promise((resolve) => child.once('exit', resolve));
    clearTimeout(killer);
  });
  return { child, out: () => out };
}

test('socksify (Dante client) runs dig through the proxy: the DNS query is a UDP datagram relayed by the association', { timeout: 60_000, skip: unavailable() }, async (t) => {
  const netns = `sp-udp-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  t.after(() => spawnSync('ip', ['netns', 'del', netns]));
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', netns, 'route', 'add', 'local', '10.99.0.0/24', 'dev', 'lo']);
  const dir = mkdtempSync(join(tmpdir(), 'sp-socksify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  inside(t, netns, [SYSTEM_PYTHON, DNSD, '--bind', DNS_ADDRESS, '--port', '53', '--record', 'www.udp.test=192.0.2.7']);
  const engine = inside(t, netns, [process.execPath, '--import', 'tsx', ENGINE]);
  await until(() => /SOCKS \d+/.test(engine.out()), 'the engine to listen', 20_000);
  const port = Number(/SOCKS (\d+)/.exec(engine.out())![1]);
  writeFileSync(
    join(dir, 'dante.conf'),
    `route { from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = ${port}\n  proxyprotocol: socks_v5\n  protocol: tcp udp\n  method: none\n}\n`,
  );
  let answer = '';
  // dig's libuv sends with sendmmsg(2), which the Dante client does not interpose (the query would
  // leave unwrapped, and the proxy drops it as malformed). strace answers libuv's start-up probe
  // for sendmmsg with ENOSYS, so libuv sends with sendmsg(2), which socksify does wrap.
  const noSendmmsg = ['strace', '-f', '-o', '/dev/null', '-e', 'trace=sendmmsg', '-e', 'inject=sendmmsg:error=ENOSYS'];
  await until(() => {
    const dig = spawnSync('ip', ['netns', 'exec', netns, ...noSendmmsg, 'socksify', 'dig', '+tries=1', '+time=3', `@${DNS_ADDRESS}`, 'www.udp.test', 'A', '+short'], { env: { ...process.env, SOCKS_CONF: join(dir, 'dante.conf') }, encoding: 'utf8', timeout: 15_000 });
    answer = dig.stdout.trim();
    return answer !== '';
  }, 'dig to answer (the DNS server may still be starting)', 30_000);
  assert.equal(answer, '192.0.2.7');
  await until(() => engine.out().includes('RECORD'), 'the association record');
  const record = JSON.parse(/RECORD (.*)/.exec(engine.out())![1]);
  assert.equal(record.protocol, 'udp');
  assert.deepEqual(record.udp.destinations, [`${DNS_ADDRESS}:53`]);
  assert.ok(record.udp.datagramsOut >= 1);
});
