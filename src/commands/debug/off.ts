import { BaseCommand } from '../../cli/base-command.js';

/** `debug off`: stops recording traffic; what was recorded stays available. */
export default class DebugOffCommand extends BaseCommand {
  static override summary = 'Stop recording traffic (recorded requests stay until "debug clear")';
  static override examples = ['<%= config.bin %> debug off'];

  async run(): Promise<{ enabled: boolean }> {
    const { flags } = await this.parse(DebugOffCommand);
    const result = await this.client(flags.socket).call('debugDisable');
    this.say('traffic debugging is off');
    return result;
  }
}
