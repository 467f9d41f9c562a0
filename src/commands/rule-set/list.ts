import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/table.js';
import type { RuleSetsAnswer } from '../../control/answers/routing.js';

/** `rule-set list`: the rule sets the daemon serves, with their size and freshness. */
export default class RuleSetListCommand extends BaseCommand {
  static override summary = 'List the rule sets the daemon serves: entries, memory, where the copy came from and the last refresh error';
  static override examples = ['<%= config.bin %> rule-set list', '<%= config.bin %> rule-set list --json'];

  async run(): Promise<RuleSetsAnswer> {
    const { flags } = await this.parse(RuleSetListCommand);
    const answer = await this.client(flags.socket).call('ruleSets');
    const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
    const rows = answer.ruleSets.map((r) => [r.name, r.format, r.entries ?? 'not loaded', r.bytes === null ? '-' : `${(r.bytes / 1048576).toFixed(1)} MiB`, r.from ?? '-', when(r.loadedAt), r.error ?? '']);
    this.say(table(['NAME', 'FORMAT', 'ENTRIES', 'MEMORY', 'FROM', 'LOADED', 'LAST ERROR'], rows));
    return answer;
  }
}
