import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { applyEdit, editNotes, type EditOutcome } from '../../cli/edit-target.js';
import { removeBackend } from '../../config/editor.js';

/** `backend remove`: delete a backend no rule uses. */
export default class BackendRemoveCommand extends BaseCommand {
  static override roles = ['server'] as const;
  static override summary = 'Remove a backend (refused while a rule uses it)';
  static override examples = ['<%= config.bin %> backend remove --name japan'];
  static override flags = {
    name: Flags.string({ description: 'backend name', required: true }),
    config: Flags.string({ char: 'c', description: 'edit this config file directly' }),
  };

  async run(): Promise<EditOutcome> {
    const { flags } = await this.parse(BackendRemoveCommand);
    const client = this.client(flags.socket);
    const outcome = await applyEdit(this.role, flags.config, () => client.call('backendRemove', { params: { name: flags.name } }), removeBackend(flags.name));
    this.say(`backend "${flags.name}" removed (config version ${outcome.version})`);
    for (const note of editNotes(outcome)) this.say(note);
    return outcome;
  }
}
