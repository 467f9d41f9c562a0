import { createInterface } from 'node:readline';
import type { execa as Execa, ResultPromise } from 'execa';
import { findProgram } from './host-support.js';

const SPAWN = { all: true, buffer: false, reject: false, stdin: 'ignore', cleanup: true } as const;

const TAIL_LINES = 20;
const STOP_GRACE_MS = 3_000;

/** Where a tunnel program runs, and who reads its output lines. */
export interface TunnelProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
}

/** A long-running tunnel program (wireguard-go, openvpn) with its last output lines kept for error messages. */
export class TunnelProcess {
  private readonly child: ResultPromise<typeof SPAWN & { cwd?: string; env?: NodeJS.ProcessEnv }>;
  private readonly tail: string[] = [];
  /** Resolves with a description of how the process ended. */
  readonly exited: Promise<string>;
  private done = false;

  /** Starts `program` (execa is loaded here, with the first tunnel: a daemon without tunnels does not carry it). */
  static async spawn(program: string, args: string[], options: TunnelProcessOptions): Promise<TunnelProcess> {
    const { execa } = await import('execa');
    return new TunnelProcess(execa, program, args, options);
  }

  private constructor(execa: typeof Execa, program: string, args: string[], options: TunnelProcessOptions) {
    // With setpriv, the tunnel process dies with the daemon even on kill -9 (the next start removes the rest).
    const setpriv = findProgram('setpriv');
    this.child = setpriv
      ? execa(setpriv, ['--pdeathsig', 'KILL', '--', program, ...args], { ...SPAWN, cwd: options.cwd, env: options.env })
      : execa(program, args, { ...SPAWN, cwd: options.cwd, env: options.env });
    if (this.child.all) {
      createInterface({ input: this.child.all, crlfDelay: Infinity }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        options.onLine?.(line);
      });
    }
    this.exited = this.child.then((result) => {
      this.done = true;
      if (result.failed && result.exitCode === undefined && result.signal === undefined) return `${program} could not be started: ${result.shortMessage}`;
      return result.signal ? `${program} was killed (${result.signal})` : `${program} exited (code ${result.exitCode})`;
    });
  }

  /** The process id (undefined when it could not be spawned). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process has ended. */
  get ended(): boolean {
    return this.done;
  }

  /** The last lines the program printed, for an error message. */
  lastLines(count = 5): string {
    return this.tail.slice(-count).join(' | ');
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
