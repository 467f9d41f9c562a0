import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { removeUser } from '../../config/user-edits.js';

/** `user remove`: remove a native user. */
export default class UserRemoveCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = 'Remove a user of native authentication';
  static override examples = ['<%= config.bin %> user remove --username john'];
  static override flags = {
    username: Flags.string({ description: 'user name', required: true }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(UserRemoveCommand);
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('userRemove', { params: { name: flags.username } }), removeUser(flags.username));
    this.say(`user "${flags.username}" removed (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
