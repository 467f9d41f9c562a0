import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { ProxyError, ConfigError } from '../errors.js';
import type { BoundListener } from '../engine/engine-api.js';
import type { DaemonPaths } from './paths.js';

/** What a daemon reports to the process that started it. */
export type ReadyMessage =
  | { type: 'ready'; pid: number; listeners: BoundListener[]; source: string | null; version: string; warnings: string[]; socket: string; remote?: string }
  | { type: 'failed'; code: string; message: string; problems?: string[]; exitCode: number }
  | { type: 'progress'; message: string };

const READY_TIMEOUT_MS = 60_000;

/**
 * Starts the daemon in the background: the same bin with `start --foreground`, detached, its
 * output appended to the log file, and an IPC channel on which it says when its listeners are up
 * (or why they could not come up). Resolves once it is ready; the daemon then lives on alone.
 */
export function launchDaemon(binPath: string, args: string[], paths: DaemonPaths, progress?: (line: string) => void): Promise<Extract<ReadyMessage, { type: 'ready' }>> {
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const log = openSync(paths.logFile, 'a', 0o600);
  const child = spawn(process.execPath, [...process.execArgv, binPath, 'start', '--foreground', ...args], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, SIMPLE_PROXY_LAUNCHED: '1' },
  });
  closeSync(log);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new ProxyError('START_TIMEOUT', `the daemon did not come up within ${READY_TIMEOUT_MS / 1000} s; see ${paths.logFile}`));
    }, READY_TIMEOUT_MS);
    child.on('message', (message: ReadyMessage) => {
      if (message.type === 'progress') {
        progress?.(message.message);
        return;
      }
      clearTimeout(timer);
      child.disconnect();
      child.unref();
      if (message.type === 'ready') return resolve(message);
      reject(message.problems ? new ConfigError(message.message, message.problems) : new ProxyError(message.code, message.message, { exitCode: message.exitCode }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ProxyError('START_FAILED', `the daemon exited (code ${code}) before it was ready:\n${tail(paths.logFile)}`));
    });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}
