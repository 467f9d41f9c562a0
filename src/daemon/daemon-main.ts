import { errorText } from '../cli/error-text.js';
import { locateConfig } from '../config/load.js';
import { ProxyError } from '../errors.js';
import { setRole, type Role } from '../role.js';
import type { DaemonArgs } from './daemon-args.js';
import { refuseSecondDaemon, runForeground } from './foreground.js';
import { daemonPaths } from './paths.js';

/**
 * `start --foreground` without the CLI framework: the same steps and messages as the `start`
 * command (which runs this path too when given other flags), in a process that then holds only
 * what a running daemon uses. Failures print as the CLI prints them and set its exit code.
 */
export async function runDaemon(role: Role, args: DaemonArgs): Promise<void> {
  setRole(role);
  try {
    const paths = daemonPaths(role, process.env, args.socket);
    await refuseSecondDaemon(role, paths);
    const location = await locateConfig(role, args.config);
    await runForeground(role, location.path, paths, (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    if (!(error instanceof ProxyError)) throw error;
    for (const line of errorText(error)) process.stderr.write(`${line}\n`);
    process.exitCode = error.exitCode;
  }
}
