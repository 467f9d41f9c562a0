import { Args } from '@oclif/core';
import { KEYRING_SERVICE, keyring } from '../../auth/keyring.js';
import { BaseCommand } from '../../cli/base-command.js';
import { ProxyError } from '../../errors.js';

/** `secret delete NAME`: remove a secret from the OS keyring. */
export default class SecretDeleteCommand extends BaseCommand {
  static override summary = 'Delete a secret from the OS keyring';
  static override examples = ['<%= config.bin %> secret delete us-proxy'];
  static override args = { name: Args.string({ description: 'the name it was stored under', required: true }) };

  async run(): Promise<{ name: string; deleted: true }> {
    const { args } = await this.parse(SecretDeleteCommand);
    if (!(await keyring.deletePassword(KEYRING_SERVICE, args.name))) throw new ProxyError('NOT_FOUND', `no secret "${args.name}" in the OS keyring`);
    this.say(`secret "${args.name}" deleted`);
    return { name: args.name, deleted: true };
  }
}
