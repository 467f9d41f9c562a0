import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { removeRule } from '../../config/editor.js';

/** `rule remove`: remove a routing rule. */
export default class RuleRemoveCommand extends BaseCommand {
  static override summary = 'Remove a routing rule';
  static override examples = ['<%= config.bin %> rule remove --name "Anime"'];
  static override flags = {
    name: Flags.string({ description: 'rule name', required: true }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(RuleRemoveCommand);
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('ruleRemove', { params: { name: flags.name } }), removeRule(flags.name));
    this.say(`rule "${flags.name}" removed (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
