import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { expiryOf, viaDaemonOrKeyFile } from '../../cli/key-access.js';

/** `apikey add`: a key for the management listener; its secret is shown this once. */
export default class ApikeyAddCommand extends BaseCommand {
  static override summary = 'Make an API key for the management listener (web_ui_port); the secret is shown once';
  static override description =
    'Roles: viewer (status, backends, rules, health, stats, metrics), operator (also reload, backend test, debug on/off/clear/traffic), admin (also edits of config, rules, backends, users and keys, stop). Only a hash of the key is kept (api-keys.json in the state dir, 0600). Send it as "Authorization: Bearer KEY", or use it with --remote URL --api-key KEY.';
  static override examples = ['<%= config.bin %> apikey add --role viewer', '<%= config.bin %> apikey add --role operator --expires 30d'];
  static override flags = {
    role: Flags.string({ description: 'what the key may do', options: ['viewer', 'operator', 'admin'], required: true }),
    expires: Flags.string({ description: 'when the key stops working: a duration from now (30d, 12h) or a date-time (2027-01-31T00:00:00Z); default never' }),
  };

  async run(): Promise<{ id: string; role: string; secret: string; expires: string | null }> {
    const { flags } = await this.parse(ApikeyAddCommand);
    const role = flags.role as 'viewer' | 'operator' | 'admin';
    const expires = expiryOf(flags.expires);
    const { answer } = await viaDaemonOrKeyFile(
      this.client(flags.socket),
      this.remoteRun,
      this.paths(flags.socket).stateDir,
      (client) => client.call('keyAdd', { body: { role, ...(expires ? { expires } : {}) } }),
      (store) => {
        const made = store.add(role, expires ? Date.parse(expires) : null);
        return { id: made.id, role, secret: made.secret, expires: made.view.expires };
      },
    );
    this.say(`API key ${answer.id} (${answer.role}${answer.expires ? `, expires ${answer.expires}` : ''}):`);
    this.say(answer.secret);
    this.say('it is shown only now: store it (for example with "secret set api-key:https://HOST:PORT")');
    return answer;
  }
}
