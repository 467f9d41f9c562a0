import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { configWithoutDaemon, offlineNote, offlineSource, type AnswerSource } from '../../cli/current-config.js';
import { table } from '../../cli/table.js';
import type { RuleSpec } from '../../config/model.js';
import { NoDaemonError } from '../../control/control-client.js';

/** `rule list`: the routing rules in match order. */
export default class RuleListCommand extends BaseCommand {
  static override summary = 'List the routing rules in match order (first match wins)';
  static override examples = ['<%= config.bin %> rule list', '<%= config.bin %> rule list --json'];
  static override flags = { config: Flags.string({ char: 'c', description: 'read this config file instead of asking the daemon' }) };

  async run(): Promise<{ rules: (RuleSpec & { index: number })[]; from: AnswerSource }> {
    const { flags } = await this.parse(RuleListCommand);
    let rules: (RuleSpec & { index: number })[];
    let from: AnswerSource = 'daemon';
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      rules = (await this.client(flags.socket).call('rules')).rules;
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      rules = snapshot.rules.map((r, index) => ({ index, ...r }));
      from = offlineSource(snapshot);
      if (!flags.config) this.say(offlineNote(this.role, from));
    }
    const target = (r: RuleSpec): string => r.backends.map((b) => (r.backends.length > 1 ? `${b.name}(${b.weight})` : b.name)).join(', ');
    this.say(table(['#', 'NAME', this.role === 'client' ? 'ACTION' : 'BACKEND', 'DOMAINS'], rules.map((r) => [r.index, r.name, target(r), r.domains.join(', ')])));
    return { rules, from };
  }
}
