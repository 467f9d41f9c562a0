import { BaseCommand } from '../../cli/base-command.js';

/** `debug on`: starts recording traffic in the running daemon. */
export default class DebugOnCommand extends BaseCommand {
  static override summary = 'Start recording traffic (debug log, live stream, HAR export)';
  static override examples = ['<%= config.bin %> debug on', '<%= config.bin %> debug on && <%= config.bin %> debug tail'];

  async run(): Promise<{ enabled: boolean }> {
    const { flags } = await this.parse(DebugOnCommand);
    const result = await this.client(flags.socket).call('debugEnable');
    this.say('traffic debugging is on');
    return result;
  }
}
