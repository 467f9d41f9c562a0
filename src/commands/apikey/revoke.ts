import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { viaDaemonOrKeyFile } from '../../cli/key-access.js';
import { ProxyError } from '../../errors.js';

/** `apikey revoke ID`: the key stops working with the next request. */
export default class ApikeyRevokeCommand extends BaseCommand {
  static override summary = 'Revoke an API key (refused from the next request on)';
  static override examples = ['<%= config.bin %> apikey revoke 3f9a2c1d'];
  static override args = { id: Args.string({ description: 'the key id (apikey list)', required: true }) };

  async run(): Promise<{ id: string; revoked: true }> {
    const { args, flags } = await this.parse(ApikeyRevokeCommand);
    const { answer } = await viaDaemonOrKeyFile(
      this.client(flags.socket),
      this.remoteRun,
      this.paths(flags.socket).stateDir,
      (client) => client.call('keyRevoke', { params: { id: args.id } }),
      (store) => {
        if (!store.revoke(args.id)) throw new ProxyError('NOT_FOUND', `no API key with id "${args.id}"`);
        return { id: args.id, revoked: true as const };
      },
    );
    this.say(`API key ${answer.id} revoked`);
    return answer;
  }
}
