import { BaseCommand } from '../../cli/base-command.js';
import { viaDaemonOrKeyFile } from '../../cli/key-access.js';
import { table } from '../../cli/table.js';
import type { KeyView } from '../../control/api-keys.js';

/** `apikey list`: the keys of the management listener (never a secret). */
export default class ApikeyListCommand extends BaseCommand {
  static override summary = 'List the API keys: id, role, created, last used, expiry';
  static override examples = ['<%= config.bin %> apikey list', '<%= config.bin %> apikey list --json'];

  async run(): Promise<{ keys: KeyView[] }> {
    const { flags } = await this.parse(ApikeyListCommand);
    const { answer } = await viaDaemonOrKeyFile(this.client(flags.socket), this.remoteRun, this.paths(flags.socket).stateDir, (client) => client.call('keys'), (store) => ({ keys: store.list() }));
    if (answer.keys.length === 0) this.say('no API keys; make one with "apikey add --role viewer|operator|admin"');
    else this.say(table(['ID', 'ROLE', 'CREATED', 'LAST USED', 'EXPIRES'], answer.keys.map((k) => [k.id, k.role, k.created, k.lastUsed ?? 'never', k.expires === null ? 'never' : `${k.expires}${k.expired ? ' (expired)' : ''}`])));
    return answer;
  }
}
