import { setTimeout as sleep } from 'node:timers/promises';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/table.js';
import type { RecordAnswer } from '../../control/answers/records.js';
import { datagramText, ratesBetween } from '../../protocol/byte-rate.js';
import { formatBytes, formatDuration } from '../../tui/model/format.js';

/** An open connection as listed: its bytes so far, and its rate each way (bytes/s) when it was open for both reads. */
type Listed = RecordAnswer & { rateIn?: number; rateOut?: number };

/** `connections list`: the tunnels and requests open now, with bytes so far and the current rate. */
export default class ConnectionsListCommand extends BaseCommand {
  static override summary = 'List the tunnels and requests open now: id, client, target, rule, backend, age, bytes so far each way, current rate';
  static override description =
    'The rate is the growth of bytes so far between two reads of the open connections --interval apart (default 1 s), over the time between them; a connection that opened in between shows no rate. --interval 0 reads once, without rates.';
  static override examples = ['<%= config.bin %> connections list', '<%= config.bin %> connections list --backend germany', '<%= config.bin %> connections list --client 192.0.2.7 --json', '<%= config.bin %> connections list --interval 0'];
  static override flags = {
    backend: Flags.string({ description: 'only those through this backend' }),
    client: Flags.string({ description: 'only those from this client address' }),
    interval: Flags.integer({ description: 'milliseconds between the two reads the rate is worked out from (0: one read, no rates)', default: 1000, min: 0, max: 60_000 }),
  };

  async run(): Promise<{ connections: Listed[]; rateIntervalMs: number | null }> {
    const { flags } = await this.parse(ConnectionsListCommand);
    const query = { ...(flags.backend ? { backend: flags.backend } : {}), ...(flags.client ? { client: flags.client } : {}) };
    const client = this.client(flags.socket);
    const read = async (): Promise<{ at: number; connections: RecordAnswer[] }> => {
      const { connections } = await client.call('connections', { query });
      return { at: Date.now(), connections };
    };
    let last = await read();
    let rateIntervalMs: number | null = null;
    let connections: Listed[] = last.connections;
    if (flags.interval > 0 && last.connections.length > 0) {
      await sleep(flags.interval);
      const first = last;
      last = await read();
      rateIntervalMs = last.at - first.at;
      const rates = ratesBetween(first.connections, last.connections, rateIntervalMs);
      connections = last.connections.map((c) => {
        const rate = rates.get(c.id);
        return rate ? { ...c, rateIn: Math.round(rate.in), rateOut: Math.round(rate.out) } : c;
      });
    }
    const now = last.at;
    const rateText = (c: Listed): string => (c.rateIn === undefined || c.rateOut === undefined ? '-' : `${formatBytes(c.rateIn + c.rateOut)}/s`);
    const rows = connections.map((c) => [c.id, `${c.clientAddress}:${c.clientPort}`, `${c.method} ${c.host}:${c.port}${c.udp ? ` (${datagramText(c.udp)})` : ''}`, c.rule ?? '-', c.backend ?? '-', formatDuration(now - c.startedAt), formatBytes(c.bytesIn), formatBytes(c.bytesOut), rateText(c)]);
    this.say(rows.length === 0 ? 'no open connections' : table(['ID', 'CLIENT', 'TARGET', 'RULE', 'BACKEND', 'AGE', 'UP', 'DOWN', 'RATE'], rows));
    return { connections, rateIntervalMs };
  }
}
