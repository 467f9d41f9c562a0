import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { caExists, caFiles, createCa, ensureCa } from '../../mitm/ca-store.js';

/** `ca init`: makes the interception CA (or regenerates it, explicitly). */
export default class CaInitCommand extends BaseCommand {
  static override summary = 'Make the local CA that HTTPS interception (debug.mitm) signs its certificates with';
  static override description =
    'The CA lives in the state dir (key mode 0600, valid ten years) and is also made on first use. An existing CA is kept unless --regenerate is given: clients that trusted the old one must then be given the new one.';
  static override examples = ['<%= config.bin %> ca init', '<%= config.bin %> ca init --regenerate'];
  static override flags = {
    regenerate: Flags.boolean({ description: 'replace an existing CA with a new one (every client must trust the new one)' }),
  };

  async run(): Promise<{ cert: string; created: boolean; regenerated: boolean }> {
    const { flags } = await this.parse(CaInitCommand);
    const stateDir = this.paths(flags.socket).stateDir;
    const existed = caExists(stateDir);
    if (flags.regenerate && existed) {
      const ca = await createCa(stateDir);
      this.logToStderr('Warning: the interception CA was replaced. Clients that trusted the old one now refuse intercepted hosts until they trust this one;');
      this.logToStderr(`a running daemon signs with it after "${this.bin} debug mitm off" and "${this.bin} debug mitm on" (or a restart).`);
      this.say(`new CA: ${ca.certFile} (install it: ${this.bin} ca install-help)`);
      return { cert: ca.certFile, created: true, regenerated: true };
    }
    const { ca, created } = await ensureCa(stateDir);
    this.say(created ? `made the CA: ${ca.certFile} (install it: ${this.bin} ca install-help)` : `the CA exists: ${caFiles(stateDir).certFile} (pass --regenerate to replace it)`);
    return { cert: ca.certFile, created, regenerated: false };
  }
}
