import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { ensureCa } from '../../mitm/ca-store.js';
import { installSteps, installText, type InstallStep } from '../../mitm/install-help.js';
import { ProxyError } from '../../errors.js';

const IDS = installSteps('', '').map((step) => step.id);

/** `ca install-help`: how to make each platform and program trust the CA. */
export default class CaInstallHelpCommand extends BaseCommand {
  static override summary = 'Print the steps to trust the interception CA (Debian/Ubuntu, Fedora, macOS, Windows, Firefox, Node, Python, Java, Android)';
  static override examples = ['<%= config.bin %> ca install-help', '<%= config.bin %> ca install-help --for debian', '<%= config.bin %> ca install-help --for node --json'];
  static override flags = {
    for: Flags.string({ description: 'only the steps for one platform or program', options: IDS }),
  };

  async run(): Promise<{ cert: string; steps: InstallStep[] }> {
    const { flags } = await this.parse(CaInstallHelpCommand);
    const { ca } = await ensureCa(this.paths(flags.socket).stateDir);
    const steps = installSteps(ca.certFile, this.bin).filter((step) => flags.for === undefined || step.id === flags.for);
    if (steps.length === 0) throw new ProxyError('BAD_REQUEST', `no steps for "${flags.for}"`);
    this.say(installText(ca.certFile, steps));
    return { cert: ca.certFile, steps };
  }
}
