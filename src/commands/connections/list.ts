import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/table.js';
import type { RecordAnswer } from '../../control/answers/records.js';
import { formatBytes, formatDuration } from '../../tui/model/format.js';

/** `connections list`: the tunnels and requests open now. */
export default class ConnectionsListCommand extends BaseCommand {
  static override summary = 'List the tunnels and requests open now: id, client, target, rule, backend, age, bytes so far';
  static override examples = ['<%= config.bin %> connections list', '<%= config.bin %> connections list --backend germany', '<%= config.bin %> connections list --client 192.0.2.7 --json'];
  static override flags = {
    backend: Flags.string({ description: 'only those through this backend' }),
    client: Flags.string({ description: 'only those from this client address' }),
  };

  async run(): Promise<{ connections: RecordAnswer[] }> {
    const { flags } = await this.parse(ConnectionsListCommand);
    const query = { ...(flags.backend ? { backend: flags.backend } : {}), ...(flags.client ? { client: flags.client } : {}) };
    const answer = await this.client(flags.socket).call('connections', { query });
    const now = Date.now();
    const rows = answer.connections.map((c) => [c.id, `${c.clientAddress}:${c.clientPort}`, `${c.method} ${c.host}:${c.port}`, c.rule ?? '-', c.backend ?? '-', formatDuration(now - c.startedAt), formatBytes(c.bytesIn + c.bytesOut)]);
    this.say(rows.length === 0 ? 'no open connections' : table(['ID', 'CLIENT', 'TARGET', 'RULE', 'BACKEND', 'AGE', 'BYTES'], rows));
    return answer;
  }
}
