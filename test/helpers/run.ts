import { execFile } from 'node:child_process';

/** A command's outcome (never throws on a non-zero exit). */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the engine under test runs in this process). */
export function run(file: string, args: string[], env?: NodeJS.ProcessEnv, timeout = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { env: env ? { ...process.env, ...env } : process.env, timeout, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Polls `probe` until it returns a value, or fails after `ms`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
