import { BaseCommand } from '../cli/base-command.js';
import { table } from '../cli/table.js';
import type { StatusAnswer } from '../control/answers/daemon.js';
import type { ConfigSourceStatus } from '../control/answers/config-source.js';
import { downReason, healthText, serverLine } from '../cli/health-text.js';
import { formatBytes } from '../tui/model/format.js';

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
    if (status.config.remote) for (const line of describeSource(status.config.remote)) this.say(line);
    this.say(`listeners    ${status.listeners.map((l) => `${l.kind}${l.tls ? '+tls' : ''} ${l.host}:${l.port}`).join(', ')}`);
    this.say(`connections  ${status.connections.active} open, ${status.connections.total} since start`);
    this.say(`reloads      ${status.reloads.total} (${status.reloads.errors} rejected)`);
    this.say(`files        ${describeDescriptors(status.descriptors)}`);
    this.say(`udp          ${describeUdp(status.udp)}`);
    if (status.server) this.say(serverLine(status.server));
    else if (status.server === null) this.say('server       none configured (every rule goes direct)');
    this.say();
    this.say(table(['BACKEND', 'TYPE', 'ADDRESS', 'STATUS', 'HEALTH', 'CONNECTIONS', 'ERRORS', 'REASON'], status.backends.map((b) => [b.name, b.type, b.address, b.status, healthText(b), b.connections.total, b.connections.errors, downReason(b)])));
    for (const warning of status.config.warnings) this.say(`warning: ${warning}`);
    return status;
  }
}

/** Where a URL-sourced config stands: the URL, the last fetch and why it was not applied. */
function describeSource(remote: ConfigSourceStatus): string[] {
  const details = [`every ${remote.intervalSeconds}s`, ...(remote.pin ? [`sha256 pinned ${remote.pin.slice(0, 12)}…`] : []), `etag ${remote.etag ?? 'none'}`];
  const serving = remote.from === 'url' ? 'serving the body of the URL' : 'serving the last good copy kept from an earlier fetch';
  return [
    `source       ${remote.url}  [${details.join(', ')}]`,
    `last fetch   ${remote.lastFetch ?? 'never'}: ${remote.result ?? 'none yet'} (${serving}${remote.lastChange ? `, changed ${remote.lastChange}` : ''})`,
    ...(remote.error ? [`fetch error  ${remote.error}`] : []),
  ];
}

/** SOCKS5 UDP associations open and since start, datagrams and bytes each way (open associations included), drops by reason. */
function describeUdp(u: StatusAnswer['udp']): string {
  const drops = Object.entries(u.dropped).filter(([, n]) => n > 0);
  const dropped = drops.length === 0 ? 'none dropped' : `dropped ${drops.map(([reason, n]) => `${n} ${reason}`).join(', ')}`;
  return `${u.associationsActive} associations open (${u.associationsTotal} since start), ${u.flowsActive} destinations; datagrams ${u.datagramsIn} in, ${u.datagramsOut} out; ${formatBytes(u.bytesIn)} in, ${formatBytes(u.bytesOut)} out; ${dropped}`;
}

/** Open file descriptors against the limit (of the engine process nearest it) and what running out refused. */
function describeDescriptors(d: StatusAnswer['descriptors']): string {
  const use = d.limit > 0 ? `${d.open} of ${d.limit} descriptors open` : 'descriptors not sampled here';
  const refused = d.exhausted.accept + d.exhausted.dial;
  return refused === 0 ? use : `${use}; ${refused} connections refused for want of one (${d.exhausted.accept} accepts, ${d.exhausted.dial} dials)`;
}
