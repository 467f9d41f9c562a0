import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import type { ReloadAnswer } from '../../control/answers/daemon.js';

/** `config reload`: re-read the config file in the running daemon. */
export default class ConfigReloadCommand extends BaseCommand {
  static override summary = 'Reload the config file in the running daemon without dropping connections';
  static override description = 'The file is validated whole first; an invalid file is rejected with its errors and the running config keeps serving. Open connections finish on the config they started with. --dry-run shows what would change without applying it.';
  static override examples = ['<%= config.bin %> config reload', '<%= config.bin %> config reload --dry-run'];
  static override flags = { 'dry-run': Flags.boolean({ description: 'show what would change, apply nothing' }) };

  async run(): Promise<ReloadAnswer> {
    const { flags } = await this.parse(ConfigReloadCommand);
    const result = await this.client(flags.socket).call('reload', flags['dry-run'] ? { query: { dry_run: '1' } } : {});
    const d = result.diff;
    const lines: string[] = [];
    if (d.rulesAdded.length) lines.push(`rules added: ${d.rulesAdded.join(', ')}`);
    if (d.rulesRemoved.length) lines.push(`rules removed: ${d.rulesRemoved.join(', ')}`);
    if (d.rulesChanged.length) lines.push(`rules changed: ${d.rulesChanged.join(', ')}`);
    if (d.rulesReordered) lines.push('rules reordered');
    if (d.backendsAdded.length) lines.push(`backends added: ${d.backendsAdded.join(', ')}`);
    if (d.backendsRemoved.length) lines.push(`backends removed: ${d.backendsRemoved.join(', ')}`);
    if (d.backendsChanged.length) lines.push(`backends changed: ${d.backendsChanged.join(', ')}`);
    if (d.settingsChanged.length) lines.push(`settings changed: ${d.settingsChanged.join(', ')}`);
    this.say(result.dryRun ? `would reload: version ${result.previousVersion} -> ${result.version}` : `reloaded: version ${result.previousVersion} -> ${result.version}`);
    for (const line of lines.length ? lines : ['no changes']) this.say(`  ${line}`);
    if (result.restartRequired.length) this.say(`needs a restart to take effect: ${result.restartRequired.join(', ')}`);
    for (const warning of result.warnings) this.say(`warning: ${warning}`);
    return result;
  }
}
