import { BaseCommand } from '../../cli/base-command.js';

/** `debug clear`: forgets recorded traffic and resets the stats. */
export default class DebugClearCommand extends BaseCommand {
  static override summary = 'Forget the recorded traffic and reset the traffic stats';
  static override examples = ['<%= config.bin %> debug clear'];

  async run(): Promise<{ cleared: boolean }> {
    const { flags } = await this.parse(DebugClearCommand);
    const result = await this.client(flags.socket).call('debugClear');
    this.say('recorded traffic cleared');
    return result;
  }
}
