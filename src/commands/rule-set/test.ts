import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { configWithoutDaemon } from '../../cli/current-config.js';
import { NoDaemonError } from '../../control/control-client.js';
import { ProxyError } from '../../errors.js';
import type { RuleSetTestAnswer } from '../../control/answers/routing.js';
import { RuleSetStore } from '../../routing/rule-set-store.js';

/** `rule-set test NAME HOST`: whether a rule set matches a host, and by which entry. */
export default class RuleSetTestCommand extends BaseCommand {
  static override summary = 'Show whether a rule set matches a host (a name, or an address for a cidr set), and by which entry';
  static override description =
    'With a running daemon the answer uses the set it serves now. Without one the set is loaded here: a file as it is now, a URL fetched once (the copy the daemon keeps is not read).';
  static override examples = ['<%= config.bin %> rule-set test ads tracker.example.com', '<%= config.bin %> rule-set test office-nets 10.20.1.5 --json'];
  static override args = {
    name: Args.string({ description: 'rule set name (rule_sets[].name)', required: true }),
    host: Args.string({ description: 'host name or IP address to look up', required: true }),
  };
  static override flags = { config: Flags.string({ char: 'c', description: 'load the set from this config file instead of asking the daemon' }) };

  async run(): Promise<RuleSetTestAnswer> {
    const { args, flags } = await this.parse(RuleSetTestCommand);
    let answer: RuleSetTestAnswer;
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      answer = await this.client(flags.socket).call('ruleSetTest', { query: { name: args.name, host: args.host } });
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      const spec = snapshot.ruleSets.find((r) => r.name === args.name);
      if (!spec) throw new ProxyError('NOT_FOUND', `no rule set named "${args.name}" (rule sets: ${snapshot.ruleSets.map((r) => r.name).join(', ') || 'none'})`);
      const store = new RuleSetStore();
      store.apply([spec]);
      await store.settled();
      store.stop();
      answer = store.test(args.name, args.host)!;
      this.say(`(no daemon: loaded from ${spec.path ?? spec.url})`);
    }
    const { status } = answer;
    if (status.entries === null) throw new ProxyError('RULE_SET_NOT_LOADED', `rule set "${answer.name}" is not loaded${status.error ? `: ${status.error}` : ' yet'}`);
    const held = `${status.entries.toLocaleString('en-US')} entries from ${status.from === 'cache' ? `the copy kept of ${status.source}` : status.source}`;
    this.say(answer.entry === null ? `${answer.host}: not in rule set "${answer.name}" (${held})` : `${answer.host}: in rule set "${answer.name}" by entry ${answer.entry} (${held})`);
    if (status.error) this.say(`  last refresh failed: ${status.error}; the copy loaded before serves`);
    return answer;
  }
}
