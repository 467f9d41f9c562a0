import { daemonArgs } from '../daemon/daemon-args.js';
import type { Role } from '../role.js';

/** What a bin runs: the daemon's own entry for `start --foreground`, the CLI for everything else. */
export async function main(role: Role, argv: string[]): Promise<void> {
  const daemon = daemonArgs(argv);
  if (daemon !== null) return (await import('../daemon/daemon-main.js')).runDaemon(role, daemon);
  return (await import('./run.js')).run(role, argv);
}
