/** The flags of `start --foreground` that the daemon's own entry takes. */
export interface DaemonArgs {
  config?: string;
  socket?: string;
}

const VALUED: Record<string, keyof DaemonArgs> = { '--config': 'config', '-c': 'config', '--socket': 'socket' };

/**
 * The arguments of `start --foreground [--config FILE] [--socket PATH]`, or null for any other
 * command line. The daemon then starts without the CLI framework (oclif and its dependencies,
 * megabytes that a running daemon would hold for nothing); anything this does not read exactly
 * (help, --json, another flag, a flag given twice) goes through the CLI, which parses it and
 * reports its errors as usual. Imports nothing, so the bins can ask before loading anything.
 */
export function daemonArgs(argv: readonly string[]): DaemonArgs | null {
  if (argv[0] !== 'start') return null;
  const args: DaemonArgs = {};
  let foreground = false;
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--foreground' || token === '-f') {
      if (foreground) return null;
      foreground = true;
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const key = VALUED[eq > 0 ? token.slice(0, eq) : token];
    const value = eq > 0 ? token.slice(eq + 1) : argv[++i];
    if (key === undefined || args[key] !== undefined || value === undefined || value === '' || value.startsWith('-')) return null;
    args[key] = value;
  }
  return foreground ? args : null;
}
