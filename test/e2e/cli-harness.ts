import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Role } from '../../src/role.js';
import { until } from '../integration/health/pool-fixture.js';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An isolated place for one daemon: its own runtime/state dirs, config file and environment. */
export interface Sandbox {
  dir: string;
  config: string;
  env: NodeJS.ProcessEnv;
  /** Runs the real bin (`simple-proxy-server` or `-client`; the sandbox's role unless told) as a user would, with a timeout. */
  cli(args: string[], role?: Role, timeoutMs?: number): Promise<CliResult>;
  /** Like `cli`, with `input` on the bin's stdin (`--password-stdin`, `secret set --stdin`). */
  cliWithInput(args: string[], input: string, role?: Role): Promise<CliResult>;
  /** `status --json` of the running daemon. */
  status(): Promise<{ pid: number; listeners: { kind: string; port: number }[] } & Record<string, unknown>>;
  /** Stops the daemon if it still runs, then removes the sandbox's directory (for t.after, once the test has read what it needs). */
  cleanup(): Promise<void>;
}

/** Sandbox directories not cleaned up yet: removed when the test process exits, whatever a test did. */
const leftBehind = new Set<string>();
process.once('exit', () => {
  for (const dir of leftBehind) rmSync(dir, { recursive: true, force: true });
});

/** Where a role's bin lives: the repository's `bin/` unless a test runs an installed copy. */
export type BinPath = (role: Role) => string;

const repoBin: BinPath = (role) => join(ROOT, 'bin', `simple-proxy-${role}.js`);

/** Makes a sandbox for a role's daemon with a config file (text) and env overrides that keep everything under a temp dir. */
export function sandbox(configText: string, boxRole: Role = 'server', binPath: BinPath = repoBin): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'sp-e2e-'));
  leftBehind.add(dir);
  const config = join(dir, `${boxRole}-config.yaml`);
  writeFileSync(config, configText);
  const env: NodeJS.ProcessEnv = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(dir, 'run'), SIMPLE_PROXY_STATE_DIR: join(dir, 'state'), SIMPLE_PROXY_CONFIG: config, XDG_CACHE_HOME: join(dir, 'cache'), NO_COLOR: '1' };
  delete env.SIMPLE_PROXY_SOCKET;
  const run = (args: string[], role: Role, timeoutMs: number, input?: string): Promise<CliResult> =>
    new Promise((done) => {
      const child = execFile(process.execPath, [binPath(role), ...args], { env, cwd: dir, timeout: timeoutMs }, (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  const cli = (args: string[], role: Role = boxRole, timeoutMs = 60_000): Promise<CliResult> => run(args, role, timeoutMs);
  return {
    dir,
    config,
    env,
    cli,
    cliWithInput: (args, input, role = boxRole) => run(args, role, 60_000, input),
    status: async () => {
      const result = await cli(['status', '--json']);
      if (result.code !== 0) throw new Error(`status failed: ${result.stderr}${result.stdout}`);
      return JSON.parse(result.stdout);
    },
    cleanup: async () => {
      const result = await cli(['stop', '--force']);
      if (result.code !== 0 && result.code !== 7) throw new Error(`stop failed: ${result.stderr}`);
      // Retries: a daemon's last writes (log flush, pidfile removal) may still land as it exits.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      leftBehind.delete(dir);
    },
  };
}

/** Starts `count` CLI processes at once and waits for all. */
export function parallel(box: Sandbox, argsList: string[][]): Promise<CliResult[]> {
  return Promise.all(argsList.map((args) => box.cli(args)));
}

/** Spawns a long-running command (curl downloads) and resolves with its output when it ends. */
export function background(command: string, args: string[]): { done: Promise<CliResult> } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))) };
}

/** One request through the proxy with curl: the body, a space and the status code (curl's stdout even on failure). */
export function curlVia(proxyPort: number, url: string): Promise<string> {
  return new Promise((done) => {
    execFile('curl', ['-s', '--max-time', '20', '-w', ' %{http_code}', '-x', `http://127.0.0.1:${proxyPort}`, url], (_error, stdout) => done(stdout));
  });
}

/** A loopback origin answering `ok <path>`; the caller closes it. */
export async function okOrigin(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => res.end(`ok ${req.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * A loopback HTTP origin whose every answer trickles: `chunk` bytes every 100 ms, without end,
 * until `close` (a long download that is still under way whenever the test looks).
 */
export async function trickleOrigin(chunk = 8192): Promise<{ port: number; close: () => void }> {
  const held = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write(Buffer.alloc(chunk, 0x61)), 100);
    timers.add(timer);
    res.once('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  server.on('connection', (socket) => {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of held) socket.destroy();
      server.close();
    },
  };
}

/** A loopback TCP echo server holding its connections until `close`; the caller closes it. */
export async function echoServer(): Promise<{ port: number; close: () => void }> {
  const held = new Set<Socket>();
  const server = createNetServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of held) socket.destroy();
      server.close();
    },
  };
}

/** A CONNECT tunnel through the proxy to a loopback port, open until closed; `closed` says whether its client side has ended. */
export async function connectTunnel(proxyPort: number, targetPort: number): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect(proxyPort, '127.0.0.1');
  let ended = false;
  socket.on('close', () => (ended = true));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nHost: 127.0.0.1:${targetPort}\r\n\r\n`);
  let seen = '';
  await until(async () => {
    const chunk = socket.read() as Buffer | null;
    if (chunk) seen += chunk.toString('latin1');
    return seen.includes('\r\n\r\n');
  }, 15_000, 'the tunnel is established');
  if (!/^HTTP\/1\.1 200/.test(seen)) throw new Error(`the proxy refused the tunnel: ${seen.split('\r\n')[0]}`);
  return { socket, closed: () => ended };
}

/** A server config with HTTP and SOCKS5 listeners on free ports, `workers` engine processes, loopback trusted, and every host direct. */
export const directOnly = (workers: number): string =>
  `server:\n  http_port: 0\n  socks5_port: 0\n  workers: ${workers}\n${TRUSTED_LOOPBACK_YAML}backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: Default, match: { domains: ["*"] }, backend: direct }\n`;

/** The HTTP proxy port in a `status --json` answer. */
export const httpPort = (status: { listeners: { kind: string; port: number }[] }): number => status.listeners.find((l) => l.kind === 'http')!.port;

/** Every file under a directory, recursively (to scan what a daemon wrote). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}

/**
 * A sandbox of `directOnly(workers)` whose every daemon process (NODE_OPTIONS reaches the engine
 * workers too) preloads the module `hook`, with env `dirVar` naming the sandbox's directory for
 * what it writes, and an origin that answers 200; both go after the test.
 */
export async function preloadedSandbox(t: TestContext, workers: number, hook: string, dirVar: string): Promise<{ box: Sandbox; origin: { server: Server; port: number } }> {
  const box = sandbox(directOnly(workers));
  t.after(() => box.cleanup());
  const origin = await okOrigin();
  t.after(() => origin.server.close());
  const file = join(box.dir, 'preload.mjs');
  writeFileSync(file, hook);
  box.env.NODE_OPTIONS = `--import ${pathToFileURL(file).href}`;
  box.env[dirVar] = box.dir;
  return { box, origin };
}

/** The engine workers of a daemon: its children running the engine entry. */
export function enginesOf(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('engine-worker'));
}
