import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { recordText, trafficEventLines } from '../../debug/traffic-format.js';

/** `debug tail`: follows live traffic until interrupted. */
export default class DebugTailCommand extends BaseCommand {
  static override summary = 'Follow live traffic in the debug-log format until Ctrl-C';
  static override description = 'Turns nothing on by itself: run "debug on" first (or set debug.enabled in the config). Lines are coloured by status class on a terminal.';
  static override examples = ['<%= config.bin %> debug tail', '<%= config.bin %> debug tail --filter api.example.com', '<%= config.bin %> debug tail --json | jq .record.host'];
  static override flags = {
    filter: Flags.string({ char: 'f', description: 'only records whose method, host, path, client, user, backend, status or error contain this text' }),
    'no-color': Flags.boolean({ description: 'never colour the output' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DebugTailCommand);
    const client = this.client(flags.socket);
    const status = await client.call('debugStatus');
    if (!status.enabled && !this.jsonEnabled()) this.logToStderr(`traffic debugging is off: nothing will show until "${this.bin} debug on"`);
    const needle = flags.filter?.toLowerCase();
    const colour = process.stdout.isTTY === true && !flags['no-color'] && process.env.NO_COLOR === undefined;
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await client.follow(
      'debugTrafficStream',
      (event) => {
        // The daemon greets a new stream: from here on every record shows.
        if (event.type === 'hello') this.logToStderr('following live traffic (Ctrl-C to stop)');
        if (event.type !== 'traffic') return;
        if (needle !== undefined && !recordText(event.record).includes(needle)) return;
        if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(event)}\n`);
        else for (const line of trafficEventLines(event.phase, event.record, colour)) process.stdout.write(`${line}\n`);
      },
      abort.signal,
    );
  }
}
