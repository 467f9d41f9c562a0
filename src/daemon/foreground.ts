import { readFileSync } from 'node:fs';
import { displayUrl } from '../config/source-schema.js';
import { socketAnswers } from '../control/control-server.js';
import { ConfigError, ProxyError } from '../errors.js';
import { roleDefaults, type Role } from '../role.js';
import { Daemon } from './daemon.js';
import type { ReadyMessage } from './launcher.js';
import type { DaemonPaths } from './paths.js';

/** Refuses to start a second daemon where one already answers on the control socket. */
export async function refuseSecondDaemon(role: Role, paths: DaemonPaths): Promise<void> {
  if (!(await socketAnswers(paths.socket))) return;
  let pid = '?';
  try {
    pid = readFileSync(paths.pidFile, 'utf8').trim();
  } catch {
    // No pidfile: report the socket only.
  }
  throw new ProxyError('ALREADY_RUNNING', `${roleDefaults(role).bin} is already running (pid ${pid}, socket ${paths.socket})`);
}

/**
 * Runs the daemon in this process: starts it, then tells the process that launched it (on the
 * IPC channel, when there is one) that it is ready or why it could not start. `say` prints the
 * progress of a start in the foreground of a terminal.
 */
export async function runForeground(role: Role, configPath: string | null, paths: DaemonPaths, say: (line: string) => void): Promise<ReadyMessage> {
  const daemon = new Daemon(role, configPath, paths);
  try {
    const { listeners, snapshot } = await daemon.start((line) => (process.send ? process.send({ type: 'progress', message: line } satisfies ReadyMessage) : say(line)));
    const remote = snapshot.configSource ? { remote: displayUrl(snapshot.configSource.url) } : {};
    const ready: ReadyMessage = { type: 'ready', pid: process.pid, listeners, source: snapshot.source, version: snapshot.version, warnings: snapshot.warnings, socket: paths.socket, ...remote };
    if (process.send) {
      process.send(ready);
      process.disconnect();
    }
    return ready;
  } catch (error) {
    if (process.send && error instanceof ProxyError) {
      process.send({ type: 'failed', code: error.code, message: error.message, exitCode: error.exitCode, ...(error instanceof ConfigError ? { problems: error.problems } : {}) } satisfies ReadyMessage);
      process.disconnect();
    }
    throw error;
  }
}
