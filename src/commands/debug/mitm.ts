import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';

/** `debug mitm on|off`: switches HTTPS interception live. */
export default class DebugMitmCommand extends BaseCommand {
  static override summary = 'Switch HTTPS interception (debug.mitm) on or off in the running daemon';
  static override description =
    'With it on, CONNECT and SOCKS5 tunnels to the hosts of debug.mitm.hosts (minus ignore_hosts) are decrypted for the debugger; clients must trust the CA ("ca install-help"). The server role intercepts only when its config file has a debug.mitm section. A reload keeps this switch unless the file\'s debug.mitm.enabled changed.';
  static override examples = ['<%= config.bin %> debug mitm on', '<%= config.bin %> debug mitm off'];
  static override args = { state: Args.string({ description: 'on or off', required: true, options: ['on', 'off'] }) };

  async run(): Promise<{ mitm: boolean }> {
    const { args, flags } = await this.parse(DebugMitmCommand);
    const on = args.state === 'on';
    const result = await this.client(flags.socket).call(on ? 'debugMitmEnable' : 'debugMitmDisable');
    this.say(on ? `HTTPS interception is on (clients must trust the CA: ${this.bin} ca install-help)` : 'HTTPS interception is off: tunnels are relayed end to end');
    return result;
  }
}
