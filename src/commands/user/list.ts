import { Flags } from '@oclif/core';
import { authSettings } from '../../auth/auth-settings.js';
import { BaseCommand } from '../../cli/base-command.js';
import { offlineNote, offlineSource, type AnswerSource } from '../../cli/current-config.js';
import { table } from '../../cli/table.js';
import { locateConfig } from '../../config/load.js';
import { loadEffectiveConfig } from '../../config/remote-config.js';
import { NoDaemonError } from '../../control/control-client.js';
import type { UsersAnswer } from '../../control/answers/routing.js';

/** What `user list` shows: names and groups, never hashes. */
type UserList = UsersAnswer & { from: AnswerSource };

/** `user list`: the native users and their groups. */
export default class UserListCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = 'List the users of native authentication and their groups';
  static override examples = ['<%= config.bin %> user list', '<%= config.bin %> user list --json'];
  static override flags = { config: Flags.string({ char: 'c', description: 'read this config file instead of asking the daemon' }) };

  async run(): Promise<UserList> {
    const { flags } = await this.parse(UserListCommand);
    let list: UserList;
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      list = { ...(await this.client(flags.socket).call('users')), from: 'daemon' };
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const location = await locateConfig(this.role, flags.config);
      const snapshot = await loadEffectiveConfig(location.path, this.role, { keepUnsetVariables: true });
      const auth = authSettings(snapshot);
      list = { mode: auth.mode, users: (auth.native?.users ?? []).map((u) => ({ username: u.username, groups: u.groups })), from: offlineSource(snapshot) };
      if (!flags.config) this.say(offlineNote(this.role, list.from));
    }
    this.say(table(['USER', 'GROUPS'], list.users.map((u) => [u.username, u.groups.join(', ')])));
    if (list.mode !== 'native') this.say(`(server.auth.mode is "${list.mode}": these users are used only in native mode)`);
    return list;
  }
}
