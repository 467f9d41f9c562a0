import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, type EditOutcome } from '../../cli/edit-target.js';
import { reorderRules } from '../../config/editor.js';

/** `rule reorder`: put every rule in a new order. */
export default class RuleReorderCommand extends BaseCommand {
  static override summary = 'Put the rules in a new order (name every rule once)';
  static override examples = ['<%= config.bin %> rule reorder "Anime" "US streaming" "Default"'];
  static override strict = false;
  static override args = { names: Args.string({ description: 'rule names in the new order', required: true }) };
  static override flags = { config: Flags.string({ char: 'c', description: 'edit this config file directly' }) };

  async run(): Promise<EditOutcome> {
    const { argv, flags } = await this.parse(RuleReorderCommand);
    const order = argv as string[];
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('POST', '/api/rules/reorder', { order }), reorderRules(order));
    this.say(`rules reordered (config version ${outcome.version})`);
    return outcome;
  }
}
