import { Flags } from '@oclif/core';
import { hashPassword } from '../../auth/native-provider.js';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { readSecret } from '../../cli/read-secret.js';
import { setUserPassword } from '../../config/user-edits.js';

/** `user passwd`: set a native user's password. */
export default class UserPasswdCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = "Reset a native user's password";
  static override description = 'Read from a no-echo prompt (asked twice) or with --password-stdin; only the bcrypt hash is stored. Verdicts cached for the old password are dropped by the reload.';
  static override examples = ['<%= config.bin %> user passwd --username john'];
  static override flags = {
    username: Flags.string({ description: 'user name', required: true }),
    'password-stdin': Flags.boolean({ description: 'read the password from standard input', default: false }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(UserPasswdCommand);
    const password = await readSecret({ fromStdinFlag: flags['password-stdin'], label: 'new password', confirm: true, flagName: 'password-stdin' });
    const hash = await hashPassword(password);
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('userPassword', { params: { name: flags.username }, body: { password_hash: hash } }), setUserPassword(flags.username, hash));
    this.say(`password of "${flags.username}" changed (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
