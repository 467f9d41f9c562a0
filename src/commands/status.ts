import { BaseCommand } from '../cli/base-command.js';
import { table } from '../cli/table.js';
import type { StatusAnswer } from '../control/answers/daemon.js';

/** `status`: what the running daemon is doing. */
export default class Status_ extends BaseCommand {
  static override summary = 'Show the running daemon: listeners, config, connections, backends';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<StatusAnswer> {
    const { flags } = await this.parse(Status_);
    const status = await this.client(flags.socket).call('status');
    const uptime = `${Math.floor(status.uptimeSeconds / 3600)}h${String(Math.floor((status.uptimeSeconds % 3600) / 60)).padStart(2, '0')}m${String(status.uptimeSeconds % 60).padStart(2, '0')}s`;
    this.say(`${this.bin} running (pid ${status.pid}, up ${uptime}, role ${status.role})`);
    this.say(`config       ${status.config.source ?? 'embedded default'}  [version ${status.config.version}]`);
    this.say(`listeners    ${status.listeners.map((l) => `${l.kind}${l.tls ? '+tls' : ''} ${l.host}:${l.port}`).join(', ')}`);
    this.say(`connections  ${status.connections.active} open, ${status.connections.total} since start`);
    this.say(`reloads      ${status.reloads.total} (${status.reloads.errors} rejected)`);
    this.say();
    this.say(table(['BACKEND', 'TYPE', 'ADDRESS', 'STATUS', 'CONNECTIONS', 'ERRORS'], status.backends.map((b) => [b.name, b.type, b.address, b.status, b.connections.total, b.connections.errors])));
    for (const warning of status.config.warnings) this.say(`warning: ${warning}`);
    return status;
  }
}
