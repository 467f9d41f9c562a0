import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Flags } from '@oclif/core';
import { execa } from 'execa';
import { BaseCommand } from '../../cli/base-command.js';
import { serviceDefinition } from '../../cli/service-definition.js';
import { serviceName } from '../../daemon/service-unit.js';

/** `service install`: write the unit or plist and tell the service manager. */
export default class ServiceInstallCommand extends BaseCommand {
  static override summary = 'Install the daemon as a systemd (or launchd) service';
  static override examples = ['sudo <%= config.bin %> service install --config /etc/simple-proxy/server-config.yaml', '<%= config.bin %> service install --user'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file the service starts with' }),
    user: Flags.boolean({ description: 'a per-user service (systemd --user, LaunchAgent)' }),
  };

  async run(): Promise<{ path: string }> {
    const { flags } = await this.parse(ServiceInstallCommand);
    const paths = this.paths();
    const definition = serviceDefinition(this.role, flags.config, flags.user, paths);
    mkdirSync(dirname(definition.path), { recursive: true });
    writeFileSync(definition.path, definition.content, { mode: 0o644 });
    const name = serviceName(this.role);
    if (process.platform === 'darwin') {
      // launchd opens the log file but does not create its directory.
      mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
      this.say(`wrote ${definition.path}\nstart it with: launchctl load -w ${definition.path}`);
    } else {
      const scope = flags.user ? ['--user'] : [];
      await execa('systemctl', [...scope, 'daemon-reload'], { reject: false });
      this.say(`wrote ${definition.path}\nstart it with: systemctl ${scope.join(' ')}${scope.length ? ' ' : ''}enable --now ${name}`);
    }
    return { path: definition.path };
  }
}
