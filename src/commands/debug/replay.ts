import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/table.js';
import type { ReplayAnswer } from '../../control/answers/debug.js';

/** `debug replay ID`: sends a recorded request again and compares the answers. */
export default class DebugReplayCommand extends BaseCommand {
  static override summary = 'Send a recorded request again, through the same or another backend, and compare the answers side by side';
  static override description =
    'Prints status, time, size and body hash of the recorded exchange and of the replay (A/B checks of egress). Headers the debugger masked are not sent again. Methods that are not idempotent (POST, PATCH, ...) need --force.';
  static override examples = ['<%= config.bin %> debug replay 3f2a1c0', '<%= config.bin %> debug replay 3f2a1c0 --backend vpn-de', '<%= config.bin %> debug replay 3f2a1c7 --force --json'];
  static override args = { id: Args.string({ description: 'the record id (debug tail, debug export, dashboard)', required: true }) };
  static override flags = {
    backend: Flags.string({ char: 'b', description: 'send it through this backend (default: the one that carried it)' }),
    force: Flags.boolean({ description: 'replay a method that is not idempotent (it may act twice)' }),
  };

  async run(): Promise<ReplayAnswer> {
    const { args, flags } = await this.parse(DebugReplayCommand);
    const report = await this.client(flags.socket).call('debugReplay', { body: { id: args.id, ...(flags.backend ? { backend: flags.backend } : {}), force: flags.force } }, 120_000);
    const { original: a, replay: b } = report;
    const same = (x: string | number | null, y: string | number | null): string => (x !== null && x === y ? 'same' : '');
    this.say(`${report.method} ${report.url}`);
    this.say(
      table(
        ['', 'ORIGINAL', 'REPLAY', ''],
        [
          ['backend', a.backend, b.backend, ''],
          ['status', a.status, b.status ?? `failed: ${b.error ?? 'error'}`, same(a.status, b.status)],
          ['time', ms(a), ms(b), ''],
          ['size', bytes(a), bytes(b), same(a.size, b.size)],
          ['body sha256', a.sha256?.slice(0, 16) ?? 'not kept whole', b.sha256?.slice(0, 16) ?? '-', same(a.sha256, b.sha256)],
        ],
      ),
    );
    if (report.masked.length > 0) this.say(`not sent again (masked in the record): ${report.masked.join(', ')}`);
    return report;
  }
}

const ms = (o: ReplayAnswer['original']): string => (o.durationMs === null ? '-' : `${o.durationMs} ms`);
const bytes = (o: ReplayAnswer['original']): string => (o.size === null ? '-' : `${o.size} B`);
