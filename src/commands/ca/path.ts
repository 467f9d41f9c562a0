import { BaseCommand } from '../../cli/base-command.js';
import { ensureCa } from '../../mitm/ca-store.js';

/** `ca path`: where the interception CA's certificate is. */
export default class CaPathCommand extends BaseCommand {
  static override summary = "Print the path of the interception CA's certificate (made now if there is none)";
  static override examples = ['<%= config.bin %> ca path', 'NODE_EXTRA_CA_CERTS=$(<%= config.bin %> ca path) node app.js'];

  async run(): Promise<{ cert: string; created: boolean }> {
    const { flags } = await this.parse(CaPathCommand);
    const { ca, created } = await ensureCa(this.paths(flags.socket).stateDir);
    this.say(ca.certFile);
    return { cert: ca.certFile, created };
  }
}
