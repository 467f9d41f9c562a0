import { Args, Flags } from '@oclif/core';
import { KEYRING_SERVICE, keyring } from '../../auth/keyring.js';
import { BaseCommand } from '../../cli/base-command.js';
import { readSecret } from '../../cli/read-secret.js';

/** `secret set NAME`: store a secret in the OS keyring for `password: "keyring:NAME"`. */
export default class SecretSetCommand extends BaseCommand {
  static override summary = 'Store a secret in the OS keyring';
  static override description =
    'Config fields password, bind_password and client_secret may then be written as "keyring:NAME" (for example the client\'s server password or an upstream proxy\'s password); the daemon reads the secret at start and on reload. The secret is read from a no-echo prompt or, with --stdin, from standard input. Where no keyring exists (headless servers, CI), use "${ENV}" or "file:/path" (a 0600 file) instead.';
  static override examples = ['<%= config.bin %> secret set us-proxy', 'printf %s "$SECRET" | <%= config.bin %> secret set us-proxy --stdin'];
  static override args = { name: Args.string({ description: 'name to refer to it by (keyring:NAME)', required: true }) };
  static override flags = { stdin: Flags.boolean({ description: 'read the secret from standard input', default: false }) };

  async run(): Promise<{ name: string; stored: true }> {
    const { args, flags } = await this.parse(SecretSetCommand);
    const secret = await readSecret({ fromStdinFlag: flags.stdin, label: 'secret', confirm: true, flagName: 'stdin' });
    await keyring.setPassword(KEYRING_SERVICE, args.name, secret);
    this.say(`secret "${args.name}" stored in the OS keyring; refer to it as "keyring:${args.name}"`);
    return { name: args.name, stored: true };
  }
}
