import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { curlVia, httpPort, okOrigin, sandbox, type Sandbox } from './cli-harness.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** The embedded default's backend and rule (everything direct), on free ports, trusting loopback. */
const SERVER_CONFIG = `server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}`;

/** The client role sending loopback requests on to the server daemon. */
const clientConfig = (serverPort: number): string => `client:
  http_port: 0
  socks5_port: 0
server:
  address: "127.0.0.1:${serverPort}"
  protocol: http
rules:
  - name: via server
    match: { domains: ["127.0.0.1"] }
    action: server
`;

/** Checks the installed bin's version and completion, starts its daemon and returns its HTTP port. */
async function startInstalled(box: Sandbox, role: string): Promise<number> {
  const version = await box.cli(['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^simple-proxy\/\d+\.\d+\.\d+ /);
  const completion = await box.cli(['completion', 'bash']);
  assert.equal(completion.code, 0, completion.stderr);
  assert.match(completion.stdout, new RegExp(`complete .* simple-proxy-${role}\n`));
  const started = await box.cli(['start']);
  assert.equal(started.code, 0, `${role} start: ${started.stderr}${started.stdout}`);
  const status = await box.status();
  assert.equal(status.role, role);
  return httpPort(status);
}

// The tarball as `npm publish` would ship it, installed globally into a temp prefix and run from
// outside the repository: what a user gets from `npm install -g simple-proxy`.
test('npm pack + npm install -g: both bins start, proxy a request and stop', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'sp-npm-'));
  const boxes: Sandbox[] = [];
  // The daemons stop (through the installed bin) before the prefix that holds it goes.
  t.after(async () => {
    for (const box of boxes.reverse()) await box.cleanup();
    rmSync(work, { recursive: true, force: true });
  });
  // --ignore-scripts: the e2e suite runs against the dist/ that `npm run build` made.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 << 20 });
  const [pack] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const shipped = new Set(pack.files.map((f) => f.path));
  for (const path of ['oclif.manifest.json', 'assets/grafana-dashboard.json', 'dist/cli/run.js', 'bin/simple-proxy-server.js', 'bin/simple-proxy-client.js', 'package.json', 'README.md']) {
    assert.ok(shipped.has(path), `${path} is in the tarball`);
  }
  assert.ok(![...shipped].some((p) => p.startsWith('src/') || p.startsWith('test/')), 'sources and tests stay out of the tarball');

  const prefix = join(work, 'prefix');
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, pack.filename)], {
    cwd: work,
    maxBuffer: 16 << 20,
    timeout: 300_000,
  });
  const installed = join(prefix, 'lib', 'node_modules', 'simple-proxy');
  assert.ok(existsSync(join(installed, 'oclif.manifest.json')));
  assert.deepEqual(readdirSync(join(prefix, 'bin')).sort(), ['simple-proxy-client', 'simple-proxy-server']);
  const engines = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).engines.node as string;
  assert.match(engines, /^>=20/);

  // The service unit runs the installed copy, not a repository path.
  const unit = await run(join(prefix, 'bin', 'simple-proxy-server'), ['service', 'print'], { cwd: work });
  assert.ok(unit.stdout.includes(`ExecStart=${process.execPath} ${join(prefix, 'bin', 'simple-proxy-server')} start --foreground\n`), unit.stdout);

  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const installedBin = (role: string): string => join(prefix, 'bin', `simple-proxy-${role}`);
  const server = sandbox(SERVER_CONFIG, 'server', installedBin);
  boxes.push(server);
  const serverPort = await startInstalled(server, 'server');
  assert.equal(await curlVia(serverPort, `http://127.0.0.1:${origin.port}/direct`), 'ok /direct 200');

  // The client daemon hands the request to the server daemon: both installed bins in one path.
  const client = sandbox(clientConfig(serverPort), 'client', installedBin);
  boxes.push(client);
  const clientPort = await startInstalled(client, 'client');
  assert.equal(await curlVia(clientPort, `http://127.0.0.1:${origin.port}/chained`), 'ok /chained 200');

  for (const box of [client, server]) {
    const stopped = await box.cli(['stop']);
    assert.equal(stopped.code, 0, stopped.stderr);
    const after = await box.cli(['status', '--json']);
    assert.notEqual(after.code, 0, 'no daemon answers after stop');
  }
});
