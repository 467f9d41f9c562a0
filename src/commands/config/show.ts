import { Flags } from '@oclif/core';
import { stringify } from 'yaml';
import { BaseCommand } from '../../cli/base-command.js';
import { configWithoutDaemon, offlineNote, offlineSource, type AnswerSource } from '../../cli/current-config.js';
import { NoDaemonError } from '../../control/control-client.js';
import type { ConfigAnswer } from '../../control/answers/daemon.js';
import { maskSecrets } from '../../daemon/views.js';

/** The config `config show` prints, and where it came from. */
type ShownConfig = ConfigAnswer & { from: AnswerSource };

/** `config show`: the effective config (defaults filled in, secrets masked). */
export default class ConfigShowCommand extends BaseCommand {
  static override summary = 'Show the effective config (defaults filled in, secrets masked)';
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --json'];
  static override flags = { config: Flags.string({ char: 'c', description: 'show this config file instead of the running one' }) };

  async run(): Promise<ShownConfig> {
    const { flags } = await this.parse(ConfigShowCommand);
    let shown: ShownConfig;
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      shown = { ...(await this.client(flags.socket).call('config')), from: 'daemon' };
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      shown = { source: snapshot.source, version: snapshot.version, warnings: snapshot.warnings, config: maskSecrets(snapshot.raw), from: offlineSource(snapshot) };
      if (!flags.config) this.say(offlineNote(this.role, shown.from));
    }
    this.say(`# ${shown.source ?? 'embedded default'} (version ${shown.version})`);
    this.say(stringify(shown.config).trimEnd());
    return shown;
  }
}
