import { existsSync, unlinkSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { execa } from 'execa';
import { BaseCommand } from '../../cli/base-command.js';
import { serviceName, servicePath } from '../../daemon/service-unit.js';
import { ProxyError } from '../../errors.js';

/** `service uninstall`: stop and remove the service definition. */
export default class ServiceUninstallCommand extends BaseCommand {
  static override summary = 'Stop and remove the systemd (or launchd) service';
  static override examples = ['sudo <%= config.bin %> service uninstall', '<%= config.bin %> service uninstall --user'];
  static override flags = { user: Flags.boolean({ description: 'the per-user service' }) };

  async run(): Promise<{ path: string }> {
    const { flags } = await this.parse(ServiceUninstallCommand);
    const path = servicePath({ role: this.role, user: flags.user });
    if (!existsSync(path)) throw new ProxyError('NOT_FOUND', `no service installed at ${path}`);
    const scope = flags.user ? ['--user'] : [];
    if (process.platform === 'darwin') await execa('launchctl', ['unload', '-w', path], { reject: false });
    else await execa('systemctl', [...scope, 'disable', '--now', serviceName(this.role)], { reject: false });
    unlinkSync(path);
    if (process.platform !== 'darwin') await execa('systemctl', [...scope, 'daemon-reload'], { reject: false });
    this.say(`removed ${path}`);
    return { path };
  }
}
