import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { configWithoutDaemon, offlineNote, offlineSource, type AnswerSource } from '../../cli/current-config.js';
import { table } from '../../cli/table.js';
import { NoDaemonError } from '../../control/control-client.js';
import type { BackendView } from '../../control/answers/backends.js';
import { describeBackends } from '../../daemon/views.js';
import { downReason, healthText } from '../../cli/health-text.js';

/** `backend list`: the backends with their state. */
export default class BackendListCommand extends BaseCommand {
  static override summary = 'List the backends, their state, health and traffic counters';
  static override examples = ['<%= config.bin %> backend list', '<%= config.bin %> backend list --json'];
  static override flags = { config: Flags.string({ char: 'c', description: 'read this config file instead of asking the daemon' }) };

  async run(): Promise<{ backends: BackendView[]; from: AnswerSource }> {
    const { flags } = await this.parse(BackendListCommand);
    let backends: BackendView[];
    let from: AnswerSource = 'daemon';
    try {
      if (flags.config) throw new NoDaemonError(this.role, '');
      backends = (await this.client(flags.socket).call('backends')).backends;
    } catch (error) {
      if (!(error instanceof NoDaemonError)) throw error;
      const snapshot = await configWithoutDaemon(this.role, flags.config);
      backends = describeBackends(snapshot, { backends: {} });
      from = offlineSource(snapshot);
      if (!flags.config) this.say(offlineNote(this.role, from));
    }
    const rows = backends.map((b) => [
      b.name,
      b.type,
      b.address,
      b.status,
      healthText(b),
      b.health.latencyMs === null ? null : `${b.health.latencyMs} ms`,
      b.health.uptimePercent === null ? null : `${b.health.uptimePercent}%`,
      b.health.consecutiveFailures,
      b.connections.total,
      b.connections.errors,
      downReason(b),
    ]);
    this.say(table(['NAME', 'TYPE', 'ADDRESS', 'STATUS', 'HEALTH', 'LATENCY', 'UPTIME', 'FAILS', 'CONNECTIONS', 'ERRORS', 'REASON'], rows));
    return { backends, from };
  }
}
