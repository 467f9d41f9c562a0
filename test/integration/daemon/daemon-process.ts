import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../helpers/ports.js';
import { TRUSTED_LOOPBACK_YAML } from '../../helpers/trusted-loopback.js';

const CHILD = fileURLToPath(new URL('./daemon-child.ts', import.meta.url));

/** A daemon in a process of its own, with its config file and directories in a temp dir. */
export interface DaemonProcess {
  dir: string;
  config: string;
  socket: string;
  port: number;
  socks5: number;
  pid: number;
  /** Whether it still runs. */
  alive(): boolean;
  /** Stops it (SIGTERM, then SIGKILL after 10 s) and removes its temp dir. */
  stop(): Promise<void>;
}

/** Starts a server daemon (`workers` engine processes, loopback trusted) on free ports; `extra` is appended to its config file. */
export async function startDaemonProcess(extra = '', workers = 1): Promise<DaemonProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-daemon-'));
  const config = join(dir, 'server-config.yaml');
  const [http, socks] = [await freePort(), await freePort()];
  writeFileSync(
    config,
    `server:\n  http_port: ${http}\n  socks5_port: ${socks}\n  bind_address: "127.0.0.1"\n  workers: ${workers}\n  log_level: warn\n${TRUSTED_LOOPBACK_YAML}backends:\n  - { name: direct, type: direct }\nrules:\n  - { name: all, match: { domains: ["*"] }, backend: direct }\n${extra}`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SIMPLE_PROXY_RUNTIME_DIR: join(dir, 'run'), SIMPLE_PROXY_STATE_DIR: join(dir, 'state') };
  delete env.SIMPLE_PROXY_SOCKET;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, config], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const started = await new Promise<{ socket: string; port: number; socks5: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the daemon did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the daemon exited (${code}) before it started`)));
    // The daemon logs on stdout too: its address is the line that starts with {"socket".
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{"socket"')) return;
      clearTimeout(timer);
      lines.close();
      child.stdout!.resume();
      resolve(JSON.parse(line));
    });
  });
  const exited = new Promise<void>((resolve) => (child.exitCode === null ? child.once('exit', () => resolve()) : resolve()));
  return {
    dir,
    config,
    ...started,
    pid: child.pid!,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
