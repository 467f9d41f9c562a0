import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import type { AuditEntry } from '../../control/answers/audit.js';

/** One audit line for a person. */
function line(e: AuditEntry): string {
  const who = e.key !== null ? `key ${e.key} (${e.role})` : e.uid !== null ? `uid ${e.uid}` : e.remote === 'local' ? 'uid unknown' : 'no key';
  return `${e.time}  ${who} from ${e.remote}  ${e.method} ${e.path}  ${e.result.status}${e.result.code ? ` ${e.result.code}` : ''}  ${e.summary}${e.versionBefore !== e.versionAfter ? `  [${e.versionBefore} -> ${e.versionAfter}]` : ''}`;
}

/** `audit tail`: the last changes and refusals of the control API. */
export default class AuditTailCommand extends BaseCommand {
  static override summary = 'Show the last lines of the audit trail (changes and refusals of the control API), and follow it';
  static override examples = ['<%= config.bin %> audit tail', '<%= config.bin %> audit tail -n 200', '<%= config.bin %> audit tail --follow --json'];
  static override flags = {
    lines: Flags.integer({ char: 'n', description: 'how many lines', default: 20, min: 0 }),
    follow: Flags.boolean({ char: 'f', description: 'keep showing new lines until Ctrl-C' }),
  };

  async run(): Promise<{ file: string; entries: AuditEntry[] } | void> {
    const { flags } = await this.parse(AuditTailCommand);
    const client = this.client(flags.socket);
    const answer = await client.call('audit', { query: { lines: String(flags.lines) } });
    const show = (entry: AuditEntry): void => (this.jsonEnabled() && flags.follow ? void process.stdout.write(`${JSON.stringify(entry)}\n`) : this.say(line(entry)));
    if (!flags.follow) {
      for (const entry of answer.entries) this.say(line(entry));
      return answer;
    }
    for (const entry of answer.entries) show(entry);
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    process.once('SIGTERM', () => abort.abort());
    await client.follow('events', (event) => event.type === 'audit' && show(event.entry), abort.signal, undefined, { types: 'audit' });
  }
}
