import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, placementText, type EditOutcome } from '../../cli/edit-target.js';
import { addRule } from '../../config/editor.js';
import type { RuleAdd } from '../../control/schemas.js';

/** `rule add`: add a routing rule. */
export default class RuleAddCommand extends BaseCommand {
  static override summary = 'Add a routing rule';
  static override description = 'Rules are matched in order; the first match wins. Without --position the rule goes last, or just before a trailing catch-all (*) rule so that it can match; the answer says where it went. An edit that leaves a rule unreachable (every domain it lists is taken by an earlier rule) is refused, naming that rule, unless --allow-shadowed. The edit goes through the running daemon (which reloads), or straight to the config file when none runs; comments and formatting of the file are kept.';
  static override examples = [
    '<%= config.bin %> rule add --name "Anime" --domain "*.crunchyroll.com" --backend germany --position 0',
    '<%= config.bin %> rule add --name "Work" --domain "*.company.com" --action server',
  ];
  static override flags = {
    name: Flags.string({ description: 'rule name', required: true }),
    domain: Flags.string({ description: 'domain pattern: example.com, *.example.com or * (repeatable)', required: true, multiple: true }),
    backend: Flags.string({ description: 'backend to use (server role)' }),
    action: Flags.string({ description: 'server or direct (client role)', options: ['server', 'direct'] }),
    position: Flags.integer({ description: 'insert at this position (0 = first; default: before a trailing catch-all rule, else last)', min: 0 }),
    'allow-shadowed': Flags.boolean({ description: 'keep the change even if an earlier rule leaves a rule unreachable (refused otherwise)' }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(RuleAddCommand);
    const allowShadowed = flags['allow-shadowed'] ? true : undefined;
    const rule: RuleAdd = { name: flags.name, domains: flags.domain, backend: flags.backend, action: flags.action as RuleAdd['action'], position: flags.position, allow_shadowed: allowShadowed };
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('ruleAdd', { body: rule }), addRule(rule), { allowShadowed, placed: flags.name });
    this.say(`rule "${flags.name}" added${placementText(outcome.placement)}${outcome.via === 'daemon' ? ' and live' : ` to ${outcome.path}`} (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
