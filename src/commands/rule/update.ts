import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, placementText, type EditOutcome } from '../../cli/edit-target.js';
import { updateRule } from '../../config/editor.js';
import { matchFlags, matchFromFlags } from '../../cli/rule-match-flags.js';
import type { RuleUpdate } from '../../control/schemas.js';

/** `rule update`: change a routing rule. */
export default class RuleUpdateCommand extends BaseCommand {
  static override summary = 'Change a routing rule (match keys, target, name or position)';
  static override examples = ['<%= config.bin %> rule update --name "Anime" --domain "*.crunchyroll.com" --domain "*.funimation.com"', '<%= config.bin %> rule update --name "Anime" --backend japan --position 0'];
  static override flags = {
    name: Flags.string({ description: 'rule to change', required: true }),
    'new-name': Flags.string({ description: 'rename the rule' }),
    domain: Flags.string({ description: 'replace the domain patterns (repeatable)', multiple: true }),
    ...matchFlags,
    backend: Flags.string({ description: 'backend to use (server role)' }),
    action: Flags.string({ description: 'server or direct (client role), or reject (either role)', options: ['server', 'direct', 'reject'] }),
    position: Flags.integer({ description: 'move to this position (0 = first)', min: 0 }),
    'allow-shadowed': Flags.boolean({ description: 'keep the change even if an earlier rule leaves a rule unreachable (refused otherwise)' }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(RuleUpdateCommand);
    const allowShadowed = flags['allow-shadowed'] ? true : undefined;
    // Match keys given replace the rule's whole match (with --domain, or without domains).
    const match = matchFromFlags(flags);
    const change: RuleUpdate = { name: flags['new-name'], domains: flags.domain, match, resolve: flags.resolve || undefined, backend: flags.backend, action: flags.action as RuleUpdate['action'], position: flags.position, allow_shadowed: allowShadowed };
    const client = this.client(flags.socket);
    const edit = updateRule(flags.name, change);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('ruleUpdate', { params: { name: flags.name }, body: change }), edit, { allowShadowed, placed: flags['new-name'] ?? flags.name });
    this.say(`rule "${flags.name}" updated${flags.position === undefined ? '' : `, now${placementText(outcome.placement)}`} (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
