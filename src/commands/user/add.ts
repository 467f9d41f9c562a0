import { Flags } from '@oclif/core';
import { hashPassword } from '../../auth/native-provider.js';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { readSecret } from '../../cli/read-secret.js';
import { splitList } from '../../cli/split-list.js';
import { addUser } from '../../config/user-edits.js';
import { userAddSchema } from '../../control/schemas.js';

/** `user add`: add a native user (README "Authentication"). */
export default class UserAddCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = 'Add a user for native authentication';
  static override description =
    'The password is read from a no-echo prompt (asked twice) or, with --password-stdin, from standard input; it is never taken from the command line. Only its bcrypt hash is stored, in server.auth.native.users. The edit goes through the running daemon (which reloads: the user can connect at once), or straight to the config file when none runs.';
  static override examples = ['<%= config.bin %> user add --username john --groups streaming,work', 'printf %s "$PASSWORD" | <%= config.bin %> user add --username john --password-stdin'];
  static override flags = {
    username: Flags.string({ description: 'user name', required: true }),
    groups: Flags.string({ description: 'comma-separated groups', default: '' }),
    'password-stdin': Flags.boolean({ description: 'read the password from standard input', default: false }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(UserAddCommand);
    const password = await readSecret({ fromStdinFlag: flags['password-stdin'], label: 'password', confirm: true, flagName: 'password-stdin' });
    const user = userAddSchema.parse({ username: flags.username, password_hash: await hashPassword(password), groups: splitList(flags.groups) });
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('userAdd', { body: user }), addUser(user));
    this.say(`user "${user.username}" added${outcome.via === 'daemon' ? ' and live' : ` to ${outcome.path}`} (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}

