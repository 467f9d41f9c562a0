import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { TRUSTED_LOOPBACK_YAML } from '../helpers/trusted-loopback.js';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Whether tmux is installed (the dashboard tests skip without it). */
export const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;

/** The `skip` option of a test that needs tmux. */
export const NEEDS_TMUX = hasTmux ? false : 'tmux is not installed (scripts/setup-system.sh installs it)';

/** An origin server on loopback (answers `ok` unless told), and its port. */
export async function startOrigin(handler: RequestListener = (_req, res) => res.end('ok')): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** A daemon's config with one health-checked backend (checks every second against the origin), as an operator's has: its checks go on while traffic is idle. */
export function checkedDaemonConfig(originPort: number): string {
  return `server:
  http_port: 0
  socks5_port: 0
  workers: 1
${TRUSTED_LOOPBACK_YAML}backends:
  - name: checked
    type: direct
    health_check: { type: tcp, target: "127.0.0.1:${originPort}", interval: 1s, timeout: 1s }
rules:
  - name: Default
    match: { domains: ["*"] }
    backend: checked
`;
}

/** A tmux session of its own (own server socket), so tests never touch a user's tmux. */
export class Tmux {
  private static made = 0;
  private readonly socket: string;
  /** The tmux server's pid: kill() reaches it even when the socket's directory is gone already. */
  private serverPid = 0;
  constructor(dir: string) {
    // A socket per session: a server still exiting after kill-server makes a new session on
    // the same socket fail with "server exited unexpectedly".
    this.socket = join(dir, `tmux-${++Tmux.made}.sock`);
  }
  private tmux(args: string[]): string {
    const result = spawnSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }
  start(command: string, columns: number, rows: number): void {
    this.tmux(['new-session', '-d', '-s', 'dash', '-x', String(columns), '-y', String(rows), command]);
    this.serverPid = Number(this.tmux(['display-message', '-p', '#{pid}']).trim());
  }
  capture(): string {
    return this.tmux(['capture-pane', '-p', '-t', 'dash']);
  }
  /** The screen with its colours (SGR escapes). */
  captureColours(): string {
    return this.tmux(['capture-pane', '-p', '-e', '-t', 'dash']);
  }
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      if (key.startsWith('text:')) this.tmux(['send-keys', '-t', 'dash', '-l', key.slice(5)]);
      else this.tmux(['send-keys', '-t', 'dash', key]);
      // A person types slower than tmux: an Escape followed at once by a key reads as Alt+key.
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  /** Whether the alternate screen is on and the cursor shown, as tmux tracks them. */
  screenState(): { alternate: boolean; cursor: boolean } {
    const [alternate, cursor] = this.tmux(['display-message', '-p', '-t', 'dash', '#{alternate_on} #{cursor_flag}']).trim().split(' ');
    return { alternate: alternate === '1', cursor: cursor === '1' };
  }
  /** Appends everything the dashboard writes to the terminal to a file, or stops (no file). */
  pipe(file?: string): void {
    this.tmux(['pipe-pane', '-t', 'dash', ...(file ? ['-o', `cat >> '${file}'`] : [])]);
  }
  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', 'dash', '-x', String(columns), '-y', String(rows)]);
  }
  /** Ends the tmux server and with it the dashboard (SIGHUP); safe to call twice. */
  kill(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server']);
    if (this.serverPid > 0) {
      try {
        process.kill(this.serverPid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      this.serverPid = 0;
    }
  }
  async waitFor(what: string, check: (screen: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Shell words for running the dashboard of a sandbox in tmux (CI=true as CI runners export it).
 * The sandbox's NO_COLOR is dropped unless `colour` is false, so colours can be checked.
 */
export function dashboardCommand(env: NodeJS.ProcessEnv, { nodeArgs = [], args = [], colour = true, role = 'server' }: { nodeArgs?: string[]; args?: string[]; colour?: boolean; role?: 'server' | 'client' } = {}): string {
  const merged: NodeJS.ProcessEnv = { ...env, TERM: 'xterm-256color', CI: 'true' };
  if (colour) delete merged.NO_COLOR;
  const words = Object.entries(merged)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/'/g, "'\\''")}'`);
  return `env ${words.join(' ')} ${process.execPath} ${nodeArgs.join(' ')} ${join(ROOT, `bin/simple-proxy-${role}.js`)} dashboard ${args.join(' ')}`;
}

/** A shell command that writes its pid to `pidFile`, then runs `command` in its place (so the pid is the dashboard's). */
export function withPidFile(pidFile: string, command: string): string {
  return `sh -c 'echo $$ > ${pidFile}; exec ${command.replace(/'/g, "'\\''")}'`;
}

/** CPU seconds used so far and resident memory in bytes of a process, from /proc. */
export function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

/** What a process cost over a quiet spell: share of one core, resident memory at start and end. */
export interface IdleCost {
  cpuPercent: number;
  rssStartBytes: number;
  rssEndBytes: number;
  /** Resident memory sampled along the way (one a `sampleMs`). */
  rssSamples: number[];
}

/** Watches a process for `ms` milliseconds, sampling its memory every `sampleMs`. */
export async function idleCost(pid: number, ms: number, sampleMs = 1000): Promise<IdleCost> {
  const start = processUsage(pid);
  const startedAt = Date.now();
  const rssSamples = [start.rssBytes];
  while (Date.now() - startedAt < ms) {
    await new Promise((r) => setTimeout(r, Math.min(sampleMs, ms - (Date.now() - startedAt))));
    rssSamples.push(processUsage(pid).rssBytes);
  }
  const end = processUsage(pid);
  const elapsed = (Date.now() - startedAt) / 1000;
  return { cpuPercent: ((end.cpuSeconds - start.cpuSeconds) / elapsed) * 100, rssStartBytes: start.rssBytes, rssEndBytes: end.rssBytes, rssSamples };
}
