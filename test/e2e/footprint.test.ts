import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectTunnel, curlVia, enginesOf, httpPort, preloadedSandbox } from './cli-harness.js';
import { waitFor } from '../helpers/run.js';

/*
 * What the daemon and its engine processes load. Every process of the daemon runs with a loader
 * hook (NODE_OPTIONS reaches the engine workers too) that, on SIGUSR2, writes the files its
 * process has loaded, ESM and CommonJS. The packages below are megabytes each in every process
 * that loads them; an engine worker serving plain traffic needs none of them.
 */
const HOOK = `
import { register, createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const { port1, port2 } = new MessageChannel();
const loaded = [];
port1.on('message', (url) => loaded.push(url));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(\`
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
\`), { data: { port: port2 }, transferList: [port2] });
const cache = createRequire(import.meta.url).cache;
process.on('SIGUSR2', () => {
  writeFileSync(process.env.MODULE_LIST_DIR + '/' + process.pid + '.heap', String(process.memoryUsage().heapUsed));
  writeFileSync(process.env.MODULE_LIST_DIR + '/' + process.pid + '.txt', [...loaded, ...Object.keys(cache)].join('\\n'));
});
`;

/** Packages of the CLI, the dashboard, interception, metrics and optional features: none belongs in an engine worker of a plain config. */
const NOT_IN_ENGINE = ['@oclif/', 'ink', 'react', 'yaml', 'zod', 'execa', '@napi-rs/keyring', '@peculiar/', 'reflect-metadata', 'prom-client', 'read-tls-client-hello', 'ldapts', 'ioredis', 'jose', 'conf', 'ws'];
/** Of those, what the daemon itself does not load either without a config that uses them (it reads the config: yaml and zod it needs; `start --foreground` runs it without the CLI). */
const NOT_IN_DAEMON = ['@oclif/', 'ink', 'react', 'execa', '@napi-rs/keyring', '@peculiar/', 'reflect-metadata', 'prom-client', 'read-tls-client-hello', 'ldapts', 'ioredis'];
/** undici's package index loads fetch, WebSocket, caches and mocks: every process takes its dispatchers alone (src/backends/undici-parts.ts). */
const UNDICI_INDEX = /\/node_modules\/undici\/index\.js$/;
/**
 * The daemon's JS heap in use, idle after start: some 15 MB (the config schema, the control API,
 * the engine's routing and health code); with the CLI framework loaded as well it was about 30 MB.
 * Generous, so a loaded machine (garbage not yet collected) does not trip it.
 */
const DAEMON_HEAP_MAX = 24 * 1024 * 1024;

/** The packages of node_modules among loaded files (`@scope/name` or `name`). */
function packagesOf(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const at = file.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const parts = file.slice(at + '/node_modules/'.length).split('/');
    names.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return names;
}

const hits = (packages: Set<string>, banned: string[]): string[] => [...packages].filter((name) => banned.some((b) => (b.endsWith('/') ? name.startsWith(b) : name === b)));

test('the engine workers load none of the CLI, dashboard, interception or metrics packages, and run with the young generation bounded; the daemon runs without the CLI', async (t) => {
  const { box, origin } = await preloadedSandbox(t, 2, HOOK, 'MODULE_LIST_DIR');

  const started = await box.cli(['start']);
  assert.equal(started.code, 0, started.stderr);
  const status = await box.status();
  const port = httpPort(status);
  // Some traffic first: what a worker loads on the way (a request, a tunnel) counts too.
  for (let i = 0; i < 4; i++) assert.match(await curlVia(port, `http://127.0.0.1:${origin.port}/x${i}`), / 200$/);
  const tunnel = await connectTunnel(port, origin.port);
  tunnel.socket.destroy();

  const workers = await waitFor('two engine workers', () => {
    const engines = enginesOf(status.pid);
    return engines.length === 2 ? engines : undefined;
  });
  for (const pid of workers) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--max-semi-space-size=4') && argv.includes('--expose-gc'), `engine worker ${pid} runs with the young generation bounded and collects when quiet: ${argv.join(' ')}`);
    assert.ok(argv.includes('--single-threaded-gc'), `engine worker ${pid} collects on its own thread: ${argv.join(' ')}`);
    assert.match(readFileSync(`/proc/${pid}/environ`, 'utf8'), /(^|\0)MALLOC_ARENA_MAX=2\0/, `engine worker ${pid} runs with malloc's arenas bounded`);
  }
  const list = async (pid: number): Promise<string[]> => {
    const file = join(box.dir, `${pid}.txt`);
    process.kill(pid, 'SIGUSR2');
    return waitFor(`the module list of ${pid}`, () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : undefined));
  };
  for (const pid of workers) {
    const files = await list(pid);
    assert.ok(files.some((f) => f.includes('/dist/proxy/engine.js')), `the list of ${pid} is an engine's (${files.length} files)`);
    assert.deepEqual(hits(packagesOf(files), NOT_IN_ENGINE), [], `engine worker ${pid} loads only what it uses`);
    assert.deepEqual(files.filter((f) => UNDICI_INDEX.test(f)), [], `engine worker ${pid} loads undici's dispatchers, not its index`);
  }
  const daemonFiles = await list(status.pid);
  assert.ok(daemonFiles.some((f) => f.includes('/dist/daemon/daemon.js')), 'the daemon list is the daemon process');
  assert.deepEqual(hits(packagesOf(daemonFiles), NOT_IN_DAEMON), [], 'the daemon loads only what its config uses, and no CLI');
  assert.deepEqual(daemonFiles.filter((f) => UNDICI_INDEX.test(f)), [], "the daemon loads undici's dispatchers, not its index");
  const heapUsed = Number(readFileSync(join(box.dir, `${status.pid}.heap`), 'utf8'));
  assert.ok(heapUsed < DAEMON_HEAP_MAX, `the idle daemon's heap: ${(heapUsed / 1048576).toFixed(1)} MB in use`);
});
