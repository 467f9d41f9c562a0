import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { loadConfig, locateConfig } from '../../config/load.js';
import { NoDaemonError } from '../../control/control-client.js';

/** `config validate`: check a config file without starting anything. */
export default class ConfigValidateCommand extends BaseCommand {
  static override summary = 'Check a config file; every problem is printed with file, line and column';
  static override examples = ['<%= config.bin %> config validate --config server-config.yaml', '<%= config.bin %> config validate --strict'];
  static override flags = {
    config: Flags.string({ char: 'c', description: "config file (default: the running daemon's, else the one start would use)" }),
    strict: Flags.boolean({ description: 'also fail on backends that could not be used (missing or broken tunnel files)' }),
  };

  async run(): Promise<{ valid: true; path: string | null; version: string; warnings: string[] }> {
    const { flags } = await this.parse(ConfigValidateCommand);
    const location = (await this.daemonConfig(flags.config, flags.socket)) ?? (await locateConfig(this.role, flags.config));
    const snapshot = await loadConfig(location.path, this.role, { strict: flags.strict });
    this.say(`${location.path ?? 'embedded default'}: valid (version ${snapshot.version}, ${snapshot.backends.length} backends, ${snapshot.rules.length} rules)`);
    for (const warning of snapshot.warnings) this.say(`warning: ${warning}`);
    return { valid: true, path: location.path, version: snapshot.version, warnings: snapshot.warnings };
  }

  /** Without --config, the file of the daemon that runs (null when none answers). */
  private async daemonConfig(configFlag: string | undefined, socket: string | undefined): Promise<{ path: string | null } | null> {
    if (configFlag !== undefined) return null;
    try {
      const { source } = await this.client(socket).call<{ source: string | null }>('GET', '/api/config');
      this.say(`(checking the running daemon's config: ${source ?? 'the embedded default'})`);
      return { path: source };
    } catch (error) {
      if (error instanceof NoDaemonError) return null;
      throw error;
    }
  }
}
