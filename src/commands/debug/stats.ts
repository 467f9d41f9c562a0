import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/table.js';
import type { TrafficStatsAnswer } from '../../control/answers/debug.js';

/** `debug stats`: traffic statistics since debugging was turned on. */
export default class DebugStatsCommand extends BaseCommand {
  static override summary = 'Show traffic statistics (requests, errors, bytes, status classes, top hosts)';
  static override examples = ['<%= config.bin %> debug stats', '<%= config.bin %> debug stats --json'];

  async run(): Promise<TrafficStatsAnswer> {
    const { flags } = await this.parse(DebugStatsCommand);
    const stats = await this.client(flags.socket).call('debugStats');
    const counts = (record: Record<string, number>): string =>
      Object.entries(record)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-';
    this.say(
      table(
        ['STAT', 'VALUE'],
        [
          ['debugging', stats.enabled ? 'on' : 'off'],
          ['since', stats.since === null ? '-' : new Date(stats.since).toISOString()],
          ['requests', stats.requests],
          ['tunnels', stats.tunnels],
          ['errors', stats.errors],
          ['bytes in / out', `${stats.bytesIn} / ${stats.bytesOut}`],
          ['average duration', `${stats.averageDurationMs} ms`],
          ['status classes', counts(stats.byStatusClass)],
          ['methods', counts(stats.byMethod)],
          ['backends', counts(stats.byBackend)],
          ['top hosts', stats.topHosts.map((h) => `${h.host} ${h.count}`).join(', ') || '-'],
          ['kept records', `${stats.kept} (${Math.ceil(stats.keptBytes / 1024)} KiB)`],
          ['dropped log lines', stats.droppedLines],
          ...mitmRows(stats.mitm),
        ],
      ),
    );
    return stats;
  }
}

/** The interception rows: what was opened up or passed through, and the leaf cache against its bound. */
function mitmRows(mitm: TrafficStatsAnswer['mitm']): (string | number)[][] {
  const rows: (string | number)[][] = [['https interception', mitm.active ? 'on' : 'off']];
  if (!mitm.active && mitm.intercepted === 0) return rows;
  rows.push(['intercepted / passed through', `${mitm.intercepted} / ${mitm.passedThrough}`], ['client certificate refusals', mitm.clientRejections], ['passed through after refusals', mitm.passthroughHosts.join(', ') || '-']);
  if (mitm.leaves) rows.push(['leaf certificates', `${mitm.leaves.minted} signed (${mitm.leaves.averageMintMs} ms each), ${mitm.leaves.cached} reused, ${mitm.leaves.size} of ${mitm.leaves.capacity} cached`]);
  return rows;
}
