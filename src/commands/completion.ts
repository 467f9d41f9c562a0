import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { completionNames, type NameKind } from '../cli/completion-names.js';
import { completionScript } from '../cli/completion-script.js';
import { ProxyError } from '../errors.js';

/** `completion bash|zsh`: a completion script that also completes live backend, rule and user names. */
export default class CompletionCommand extends BaseCommand {
  static override summary = 'Print a bash or zsh completion script that completes commands, flags and live backend, rule and user names';
  static override description =
    'Names come from the running daemon, or from the config file start would use when none runs. Load it with: source <(simple-proxy-server completion bash), or in ~/.zshrc: source <(simple-proxy-server completion zsh).';
  static override examples = ['source <(<%= config.bin %> completion bash)', 'source <(<%= config.bin %> completion zsh)', '<%= config.bin %> completion --names backend'];
  static override args = { shell: Args.string({ description: 'bash or zsh', options: ['bash', 'zsh'] }) };
  static override flags = {
    names: Flags.string({ description: 'print the live names of a kind, one a line (what the script asks)', options: ['backend', 'rule', 'user', 'domain'] }),
  };

  async run(): Promise<{ script?: string; names?: string[] }> {
    const { args, flags } = await this.parse(CompletionCommand);
    if (flags.names) {
      const names = await completionNames(this.role, this.client(flags.socket), flags.names as NameKind);
      this.say(names.join('\n'));
      return { names };
    }
    if (!args.shell) throw new ProxyError('BAD_REQUEST', 'name a shell: completion bash or completion zsh');
    const script = completionScript(this.config, this.bin, args.shell as 'bash' | 'zsh');
    this.say(script.trimEnd());
    return { script };
  }
}
