import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { serviceDefinition } from '../../cli/service-definition.js';

/** `service print`: show the systemd unit or launchd plist without installing it. */
export default class ServicePrintCommand extends BaseCommand {
  static override summary = 'Print the systemd unit (launchd plist on macOS) that service install would write';
  static override examples = ['<%= config.bin %> service print --config /etc/simple-proxy/server-config.yaml', '<%= config.bin %> service print --user'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file the service starts with' }),
    user: Flags.boolean({ description: 'a per-user service (systemd --user, LaunchAgent)' }),
  };

  async run(): Promise<{ path: string; content: string }> {
    const { flags } = await this.parse(ServicePrintCommand);
    const definition = serviceDefinition(this.role, flags.config, flags.user, this.paths());
    this.say(`# ${definition.path}`);
    this.say(definition.content.trimEnd());
    return definition;
  }
}
