import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { reorderRules } from '../../config/editor.js';

/** `rule reorder`: put every rule in a new order. */
export default class RuleReorderCommand extends BaseCommand {
  static override summary = 'Put the rules in a new order (name every rule once)';
  static override examples = ['<%= config.bin %> rule reorder "Anime" "US streaming" "Default"'];
  static override strict = false;
  static override args = { names: Args.string({ description: 'rule names in the new order', required: true }) };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
    'allow-shadowed': Flags.boolean({ description: 'keep the change even if an earlier rule leaves a rule unreachable (refused otherwise)' }),
  };

  async run(): Promise<EditOutcome> {
    const { argv, flags } = await this.parse(RuleReorderCommand);
    const order = argv as string[];
    const client = this.client(flags.socket);
    const allowShadowed = flags['allow-shadowed'] ? true : undefined;
    const outcome = await applyEdit(this.role, flags.config, () => client.call('ruleReorder', { body: { order, allow_shadowed: allowShadowed } }), reorderRules(order), { allowShadowed });
    this.say(`rules reordered (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
