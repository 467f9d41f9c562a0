import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { curlVia, okOrigin } from './cli-harness.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

/*
 * The slow one: builds the Dockerfile with buildah and runs the image. No container registry is
 * reachable here, so scripts/container-base-image.sh makes the base image (debootstrap of bookworm
 * plus this machine's Node) first. Its storage, the bookworm tarball and the layer cache live in
 * .tmp/container/ of the checkout, so a second run reuses them (first run here: 5 to 10 minutes
 * on the shared 2-core machine, most of it debootstrap and npm ci; later runs: about 30 seconds).
 */

const execAsync = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.tmp', 'container');
const IMAGE = 'localhost/simple-proxy:test';
const STORAGE_CONF = join(CACHE, 'storage.conf');
const env = { ...process.env, CONTAINERS_STORAGE_CONF: STORAGE_CONF };

function cannotBuild(): string | false {
  if (process.getuid?.() !== 0) return 'buildah needs root here (rootless needs subuid ranges this machine does not set up)';
  for (const tool of ['buildah', 'debootstrap']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0 && spawnSync('which', [tool], { stdio: 'ignore' }).status !== 0) {
      return `${tool} is not installed (Debian: ${tool}; scripts/setup-system.sh)`;
    }
  }
  return false;
}
const skip = cannotBuild();

const buildah = (args: string[], timeout = 120_000) => execAsync('buildah', args, { env, timeout, maxBuffer: 64 << 20 });

test('the Dockerfile builds with buildah; the image serves a request as a non-root user and stops on SIGTERM', { skip, timeout: 1_500_000 }, async (t) => {
  mkdirSync(CACHE, { recursive: true });
  // Overlay on the checkout's own disk: vfs would copy node_modules once per layer.
  writeFileSync(STORAGE_CONF, `[storage]\ndriver = "overlay"\nrunroot = "${join(CACHE, 'run')}"\ngraphroot = "${join(CACHE, 'storage')}"\n`);
  const started = Date.now();
  const base = spawnSync(join(ROOT, 'scripts', 'container-base-image.sh'), [join(CACHE, 'cache')], { env, encoding: 'utf8', timeout: 900_000 });
  assert.equal(base.status, 0, `base image: ${base.stdout}${base.stderr}`);
  // This machine's npm cache for the build stage's `npm ci` (the suite's own `npm ci` filled it): minutes less on a cold run.
  const npmCache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  const build = spawnSync('buildah', ['bud', '--isolation', 'chroot', '--pull=never', '--layers', '--format', 'docker', '-v', `${npmCache}:/root/.npm`, '-t', IMAGE, '-f', 'Dockerfile', '.'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 64 << 20,
  });
  assert.equal(build.status, 0, `buildah bud: ${build.stdout.slice(-3000)}${build.stderr.slice(-3000)}`);
  t.diagnostic(`base image and build: ${Math.round((Date.now() - started) / 1000)} s`);

  // What the Dockerfile promises: tini as PID 1, non-root, a state volume, a health check.
  const inspected = await buildah(['inspect', '--type', 'image', IMAGE]);
  const inspect = JSON.parse(inspected.stdout).Docker.config as { User: string; Entrypoint: string[]; Cmd: string[]; Volumes: Record<string, unknown>; Healthcheck?: { Test: string[] } };
  assert.equal(inspect.User, 'simple-proxy');
  assert.deepEqual(inspect.Entrypoint, ['/usr/bin/tini', '--', 'simple-proxy-server']);
  assert.deepEqual(inspect.Cmd, ['start', '--foreground']);
  assert.ok('/var/lib/simple-proxy' in inspect.Volumes);
  assert.deepEqual(inspect.Healthcheck?.Test, ['CMD', 'simple-proxy-server', 'status', '--json']);

  const ctr = (await buildah(['from', '--pull=never', IMAGE])).stdout.trim();
  const work = mkdtempSync(join(tmpdir(), 'sp-image-'));
  t.after(async () => {
    await buildah(['rm', ctr]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });
  const run = (args: string[], extra: string[] = []) => ['run', '--isolation', 'chroot', '--user', 'simple-proxy', ...extra, ctr, '--', ...args];

  // The config the image ships is valid as it is (its ports may be taken on this host: a warning).
  const shipped = await buildah(run(['simple-proxy-server', 'config', 'validate', '--json']));
  assert.equal(JSON.parse(shipped.stdout).valid, true, shipped.stdout);

  // chroot isolation shares this host's network: the test's config listens on free loopback ports.
  const [http, socks] = [await freePort(), await freePort()];
  writeFileSync(
    join(work, 'server-config.yaml'),
    `server:\n  http_port: ${http}\n  socks5_port: ${socks}\n  workers: 1\n${TRUSTED_LOOPBACK_YAML}shutdown:\n  drain_timeout: "5s"\n  force_timeout: "10s"\n`,
  );
  // The image's user reads the mounted config; chroot isolation has no PID namespace, so tini is a subreaper rather than PID 1.
  chmodSync(work, 0o755);
  const child = spawn('buildah', run(['/usr/bin/tini', '--', 'simple-proxy-server', 'start', '--foreground'], ['-v', `${work}:/etc/simple-proxy:ro`, '-e', 'TINI_SUBREAPER=1']), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  t.after(() => child.kill('SIGKILL'));
  await waitForPort(http, child, 'the proxy in the image', () => output, 60_000);

  const origin = await okOrigin();
  t.after(() => origin.server.close());
  assert.equal(await curlVia(http, `http://127.0.0.1:${origin.port}/through-the-image`), 'ok /through-the-image 200');
  // The daemon runs as the image's user, not root.
  const pid = await daemonPid(http);
  assert.equal(spawnSync('ps', ['-o', 'user=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim(), '10001');

  // SIGTERM to the container's PID 1 (tini) reaches the daemon, which drains and exits 0.
  const tini = descendants(child.pid!).find((p) => p.command === 'tini');
  assert.ok(tini, 'tini runs under buildah run');
  process.kill(tini.pid, 'SIGTERM');
  const [code] = await new Promise<[number | null]>((done) => child.once('exit', (c) => done([c])));
  assert.equal(code, 0, output);
  assert.match(output, /info stopped drained=\d+ forced=0/, output);
});

/** The processes below `pid`, from ps. */
function descendants(pid: number): { pid: number; command: string }[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' }).stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
  const below: { pid: number; command: string }[] = [];
  const walk = (parent: number): void => {
    for (const [p, pp, command] of rows) {
      if (Number(pp) === parent) {
        below.push({ pid: Number(p), command });
        walk(Number(p));
      }
    }
  };
  walk(pid);
  return below;
}

/** The pid of the process listening on a loopback port (ss), on the host's view of the chroot. */
async function daemonPid(port: number): Promise<number> {
  const { stdout } = await execAsync('ss', ['-Hltnp', `sport = :${port}`]);
  const match = /pid=(\d+)/.exec(stdout);
  assert.ok(match, `a process listens on ${port}: ${stdout}`);
  return Number(match[1]);
}

test('compose.yaml: docker-compose config validates it; the plain service drops every capability on a read-only root', { skip: spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ? false : 'docker-compose is not installed (Debian: docker-compose)' }, async () => {
  const plain = await execAsync('docker-compose', ['-f', join(ROOT, 'compose.yaml'), 'config'], { cwd: ROOT });
  assert.match(plain.stdout, /simple-proxy:/);
  const tunnels = (await execAsync('docker-compose', ['-f', join(ROOT, 'compose.yaml'), '--profile', 'tunnels', 'config'], { cwd: ROOT })).stdout;
  const { parse } = await import('yaml');
  const config = parse(tunnels) as { services: Record<string, { cap_drop?: string[]; cap_add?: string[]; read_only?: boolean; devices?: string[]; security_opt?: string[]; profiles?: string[] }> };
  assert.deepEqual(config.services['simple-proxy'].cap_drop, ['ALL']);
  assert.equal(config.services['simple-proxy'].read_only, true);
  assert.equal(config.services['simple-proxy'].cap_add, undefined);
  const tunnel = config.services['simple-proxy-tunnels'];
  assert.deepEqual(tunnel.profiles, ['tunnels'], 'started only with --profile tunnels');
  assert.deepEqual(tunnel.cap_add?.sort(), ['NET_ADMIN', 'SYS_ADMIN']);
  assert.deepEqual(tunnel.devices, ['/dev/net/tun:/dev/net/tun']);
  assert.ok(tunnel.security_opt?.includes('apparmor:unconfined'));
});

test('the Dockerfile passes a Dockerfile linter (dockerfile-utils), which does catch a broken one', async () => {
  const lint = join(ROOT, 'node_modules', '.bin', 'dockerfile-utils');
  const clean = spawnSync(lint, ['lint', join(ROOT, 'Dockerfile')], { encoding: 'utf8' });
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'sp-lint-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace('EXPOSE 8080', 'EXPOSE http'));
    const broken = spawnSync(lint, ['lint', join(dir, 'Dockerfile')], { encoding: 'utf8' });
    assert.notEqual(broken.status, 0);
    assert.match(broken.stdout + broken.stderr, /Invalid containerPort: http/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
