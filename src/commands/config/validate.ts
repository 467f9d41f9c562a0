import { Flags } from '@oclif/core';
import { resolveSecretRefs } from '../../auth/secret-refs.js';
import { BaseCommand } from '../../cli/base-command.js';
import { configProblems, locateConfig } from '../../config/load.js';
import { loadEffectiveConfig } from '../../config/remote-config.js';
import { displayUrl } from '../../config/source-schema.js';
import { NoDaemonError } from '../../control/control-client.js';
import { preflight } from '../../daemon/preflight.js';

/** `config validate`: check a config file without starting anything. */
export default class ConfigValidateCommand extends BaseCommand {
  static override summary = 'Check a config file; every problem is printed with file, line and column';
  static override description =
    'Checks what start would refuse, all in one run: the file itself, the open-relay guard, secrets from the keyring, TLS files, log files that cannot be written (missing directories are fine: start creates them) and listeners that cannot be bound (a port in use now is a warning).';
  static override examples = ['<%= config.bin %> config validate --config server-config.yaml', '<%= config.bin %> config validate --strict'];
  static override flags = {
    config: Flags.string({ char: 'c', description: "config file (default: the running daemon's, else the one start would use)" }),
    strict: Flags.boolean({ description: 'also fail on backends that could not be used (missing or broken tunnel files)' }),
  };

  async run(): Promise<{ valid: true; path: string | null; version: string; warnings: string[] }> {
    const { flags } = await this.parse(ConfigValidateCommand);
    const running = await this.daemonConfig(flags.config, flags.socket);
    const location = running ?? (await locateConfig(this.role, flags.config));
    const problems: string[] = [];
    const snapshot = await loadEffectiveConfig(location.path, this.role, { strict: flags.strict, onProblems: (found) => problems.push(...found) });
    await resolveSecretRefs(snapshot).catch((error: Error) => problems.push(error.message));
    // The running daemon holds its own ports: binding them again says nothing.
    const checks = await preflight(snapshot, { listeners: running === null });
    problems.push(...checks.problems);
    if (problems.length > 0) throw configProblems(problems);
    const warnings = [...snapshot.warnings, ...checks.warnings];
    const from = snapshot.configSource ? ` (config.source ${displayUrl(snapshot.configSource.url)})` : '';
    this.say(`${location.path ?? 'embedded default'}${from}: valid (version ${snapshot.version}, ${snapshot.backends.length} backends, ${snapshot.rules.length} rules)`);
    for (const warning of warnings) this.say(`warning: ${warning}`);
    return { valid: true, path: location.path, version: snapshot.version, warnings };
  }

  /** Without --config, the file of the daemon that runs (null when none answers). */
  private async daemonConfig(configFlag: string | undefined, socket: string | undefined): Promise<{ path: string | null } | null> {
    if (configFlag !== undefined) return null;
    try {
      const { source } = await this.client(socket).call('config');
      this.say(`(checking the running daemon's config: ${source ?? 'the embedded default'})`);
      return { path: source };
    } catch (error) {
      if (error instanceof NoDaemonError) return null;
      throw error;
    }
  }
}
