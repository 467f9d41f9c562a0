import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, placementText, type EditOutcome } from '../../cli/edit-target.js';
import { addRule } from '../../config/editor.js';
import { matchFlags, matchFromFlags } from '../../cli/rule-match-flags.js';
import type { RuleAdd } from '../../control/schemas.js';

/** `rule add`: add a routing rule. */
export default class RuleAddCommand extends BaseCommand {
  static override summary = 'Add a routing rule';
  static override description = 'Rules are matched in order; the first match wins. A rule matches when every key given holds: domains, target IP blocks (--ip-cidr), ports, client blocks (--source-cidr), users, groups, protocols, a rule set, and --match for not/any/all. Without --position the rule goes last, or just before a trailing catch-all (*) rule so that it can match; the answer says where it went. An edit that leaves a rule unreachable (every domain it lists is taken by an earlier rule) is refused, naming that rule, unless --allow-shadowed. The edit goes through the running daemon (which reloads), or straight to the config file when none runs; comments and formatting of the file are kept.';
  static override examples = [
    '<%= config.bin %> rule add --name "Anime" --domain "*.crunchyroll.com" --backend germany --position 0',
    '<%= config.bin %> rule add --name "Work" --domain "*.company.com" --action server',
    '<%= config.bin %> rule add --name "No ads" --rule-set ads --action reject --position 0',
    '<%= config.bin %> rule add --name "Office net" --ip-cidr 10.20.0.0/16 --port 443 --port 8000-9000 --backend office',
  ];
  static override flags = {
    name: Flags.string({ description: 'rule name', required: true }),
    domain: Flags.string({ description: 'domain pattern: example.com, *.example.com or * (repeatable)', multiple: true }),
    ...matchFlags,
    backend: Flags.string({ description: 'backend to use (server role)' }),
    action: Flags.string({ description: 'server or direct (client role), or reject (either role: refuse what matches)', options: ['server', 'direct', 'reject'] }),
    position: Flags.integer({ description: 'insert at this position (0 = first; default: before a trailing catch-all rule, else last)', min: 0 }),
    'allow-shadowed': Flags.boolean({ description: 'keep the change even if an earlier rule leaves a rule unreachable (refused otherwise)' }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(RuleAddCommand);
    const allowShadowed = flags['allow-shadowed'] ? true : undefined;
    const match = matchFromFlags(flags);
    const rule: RuleAdd = { name: flags.name, domains: flags.domain, match, resolve: flags.resolve || undefined, backend: flags.backend, action: flags.action as RuleAdd['action'], position: flags.position, allow_shadowed: allowShadowed };
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('ruleAdd', { body: rule }), addRule(rule), { allowShadowed, placed: flags.name });
    this.say(`rule "${flags.name}" added${placementText(outcome.placement)}${outcome.via === 'daemon' ? ' and live' : ` to ${outcome.path}`} (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
