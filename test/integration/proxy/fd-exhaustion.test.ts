import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DescriptorView } from '../../../src/engine/engine-api.js';
import { until } from '../health/pool-fixture.js';
import { curl, origin } from '../policy/policy-fixture.js';

const CHILD = fileURLToPath(new URL('./fd-exhaustion-child.ts', import.meta.url));
const LIMIT = 128;
const TUNNELS = 150;

/** Opens a CONNECT tunnel and resolves with the proxy's status line ('' when it closed without one). */
async function tunnel(port: number, target: number, held: Socket[]): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1' });
  held.push(socket);
  socket.write(`CONNECT 127.0.0.1:${target} HTTP/1.1\r\nHost: 127.0.0.1:${target}\r\n\r\n`);
  // A connection the kernel took but the proxy could not accept is reset: no status line.
  const reply = await new Promise<string>((resolve) => {
    socket.once('data', (data) => resolve(String(data)));
    socket.once('error', () => resolve(''));
    socket.once('close', () => resolve(''));
  });
  return reply.split('\r\n')[0];
}

test(`out of file descriptors: the soft limit is raised to the hard one (${LIMIT}); ${TUNNELS} tunnels under it are refused with 503, logged and counted, and the proxy serves again once they close`, { timeout: 60_000 }, async (t) => {
  const site = await origin();
  t.after(() => site.server.close());
  const child = spawn('prlimit', [`--nofile=${LIMIT / 2}:${LIMIT}`, process.execPath, '--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const warnings: string[] = [];
  let port = 0;
  let answer: { stats: { descriptors: DescriptorView }; metric: { labels: { during?: string }; value: number }[] } | null = null;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line);
    if (message.port) port = message.port;
    if (message.warning) warnings.push(message.warning);
    if (message.stats) answer = message;
  });
  await until(() => port > 0, 20_000, 'the engine listening');

  const held: Socket[] = [];
  t.after(() => held.forEach((s) => s.destroy()));
  // Whether the tunnels leave the proxy one descriptor or none depends on how many it had open
  // before (the runtime's own count varies), and only with one left is a next connection accepted
  // and then refused at its dial. This connection holds one (its CONNECT head is not finished):
  // letting it go when connections go unanswered turns none into one.
  const spare = connect({ port, host: '127.0.0.1' });
  held.push(spare);
  spare.write(`CONNECT 127.0.0.1:${site.port} HTTP/1.1\r\n`);
  const replies: string[] = [];
  for (let i = 0; i < TUNNELS; i++) {
    const reply = await tunnel(port, site.port, held);
    replies.push(reply);
    if (reply === '' && !replies.some((r) => r.startsWith('HTTP/1.1 503'))) spare.destroy();
  }
  const opened = replies.filter((r) => r.startsWith('HTTP/1.1 200')).length;
  const refused = replies.filter((r) => r.startsWith('HTTP/1.1 503')).length;
  console.log(`${opened} tunnels opened, ${refused} refused with 503, ${TUNNELS - opened - refused} closed unanswered`);
  assert.ok(opened > 20 && opened < TUNNELS, `some tunnels open, not all (${opened})`);
  assert.ok(refused > 0, 'dials that found no descriptor are refused with 503');
  await until(() => warnings.some((w) => /file descriptors in use \(EMFILE: out of file descriptors\)/.test(w)), 15_000, 'a warning about running out');
  assert.equal(child.exitCode, null, 'the engine is still running');

  child.stdin!.write('stats\n');
  await until(() => answer !== null, 10_000, 'stats');
  const { stats, metric } = answer!;
  assert.equal(stats.descriptors.limit, LIMIT, 'the soft limit was raised to the hard limit at start');
  assert.ok(stats.descriptors.exhausted.dial >= refused, `dial refusals counted (${stats.descriptors.exhausted.dial})`);
  assert.equal(metric.find((v) => v.labels.during === 'dial')?.value, stats.descriptors.exhausted.dial, 'proxy_fd_exhausted_total{during="dial"}');

  held.forEach((s) => s.destroy());
  await until(async () => (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${port}`, `http://127.0.0.1:${site.port}/`])).stdout === '200', 15_000, 'service after the connections closed');
});
