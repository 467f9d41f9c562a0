import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { splitList } from '../../cli/split-list.js';
import { changeUserGroups } from '../../config/user-edits.js';
import { ProxyError } from '../../errors.js';

/** `user groups`: add or remove groups of a native user. */
export default class UserGroupsCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = "Add or remove a native user's groups";
  static override examples = ['<%= config.bin %> user groups --username john --add admin', '<%= config.bin %> user groups --username john --remove streaming'];
  static override flags = {
    username: Flags.string({ description: 'user name', required: true }),
    add: Flags.string({ description: 'groups to add (comma-separated, repeatable)', multiple: true, default: [] }),
    remove: Flags.string({ description: 'groups to remove (comma-separated, repeatable)', multiple: true, default: [] }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(UserGroupsCommand);
    const add = flags.add.flatMap(splitList);
    const remove = flags.remove.flatMap(splitList);
    if (add.length === 0 && remove.length === 0) throw new ProxyError('BAD_REQUEST', 'name groups to --add or --remove');
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('userGroups', { params: { name: flags.username }, body: { add, remove } }), changeUserGroups(flags.username, add, remove));
    this.say(`groups of "${flags.username}" changed (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
