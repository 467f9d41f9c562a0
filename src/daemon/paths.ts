import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../role.js';

/** Where a role's daemon keeps its control socket, pidfile and log. */
export interface DaemonPaths {
  /** Directory of the control socket (mode 0700). */
  runtimeDir: string;
  socket: string;
  /** Directory of the pidfile and the log file. */
  stateDir: string;
  pidFile: string;
  logFile: string;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Paths for a role: `$XDG_RUNTIME_DIR/simple-proxy/<role>.sock` (root: `/run/simple-proxy/`, on
 * macOS `/var/run/simple-proxy/`: its root file system is read-only and has no /run),
 * state in `$XDG_STATE_HOME/simple-proxy/<role>/` (root: `/var/lib/simple-proxy/<role>/`).
 * `SIMPLE_PROXY_SOCKET`, `SIMPLE_PROXY_RUNTIME_DIR` and `SIMPLE_PROXY_STATE_DIR` override them.
 */
export function daemonPaths(role: Role, env: NodeJS.ProcessEnv = process.env, socketFlag?: string, platform: NodeJS.Platform = process.platform): DaemonPaths {
  const runtimeDir = env.SIMPLE_PROXY_RUNTIME_DIR || (isRoot() ? (platform === 'darwin' ? '/var/run/simple-proxy' : '/run/simple-proxy') : join(env.XDG_RUNTIME_DIR || join(env.TMPDIR || '/tmp', `simple-proxy-${process.getuid?.() ?? 'user'}`), 'simple-proxy'));
  const stateRoot = env.SIMPLE_PROXY_STATE_DIR || (isRoot() ? '/var/lib/simple-proxy' : join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'simple-proxy'));
  const stateDir = join(stateRoot, role);
  const socket = socketFlag || env.SIMPLE_PROXY_SOCKET || join(runtimeDir, `${role}.sock`);
  return { runtimeDir, socket, stateDir, pidFile: join(stateDir, 'daemon.pid'), logFile: join(stateDir, 'daemon.log') };
}
