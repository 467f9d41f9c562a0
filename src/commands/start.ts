import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadConfig, locateConfig } from '../config/load.js';
import { refuseSecondDaemon, runForeground } from '../daemon/foreground.js';
import { launchDaemon, type ReadyMessage } from '../daemon/launcher.js';

/** `start`: run the proxy daemon (background by default). */
export default class Start extends BaseCommand {
  static override summary = 'Start the proxy daemon';
  static override description = 'Starts the listeners and the control socket. Runs in the background and returns once the listeners are up, unless --foreground (for systemd, launchd and containers). Without --config, the config is looked for in $SIMPLE_PROXY_CONFIG, ./<role>-config.yaml, the user config dir and /etc/simple-proxy/; when none exists, an embedded default runs a local proxy.';
  static override examples = ['<%= config.bin %> start', '<%= config.bin %> start --config /etc/simple-proxy/server-config.yaml', '<%= config.bin %> start --foreground'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file' }),
    foreground: Flags.boolean({ char: 'f', description: 'run in the foreground (log to stdout)' }),
  };

  async run(): Promise<ReadyMessage> {
    const { flags } = await this.parse(Start);
    const paths = this.paths(flags.socket);
    await refuseSecondDaemon(this.role, paths);
    const location = await locateConfig(this.role, flags.config);
    if (flags.foreground) return runForeground(this.role, location.path, paths, (line) => this.say(line));

    await loadConfig(location.path, this.role);
    const args = [...(location.path ? ['--config', location.path] : []), ...(flags.socket ? ['--socket', flags.socket] : [])];
    const ready = await launchDaemon(process.argv[1], args, paths, (line) => process.stderr.write(`  ${line}\n`));
    this.report(ready, paths.logFile);
    return ready;
  }

  private report(ready: Extract<ReadyMessage, { type: 'ready' }>, logFile: string): void {
    this.say(`${this.bin} started (pid ${ready.pid})`);
    this.say(`  config   ${ready.source ?? 'embedded default (no config file found)'}  [version ${ready.version}]`);
    if (ready.remote) this.say(`  source   ${ready.remote} (config.source)`);
    for (const l of ready.listeners) this.say(`  ${l.kind.padEnd(8)} ${l.tls ? 'https' : l.kind === 'http' ? 'http' : 'socks5'}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`);
    this.say(`  socket   ${ready.socket}`);
    this.say(`  log      ${logFile}`);
    for (const warning of ready.warnings) this.say(`warning: ${warning}`);
  }
}
