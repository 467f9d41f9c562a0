import { readFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadConfig, locateConfig } from '../config/load.js';
import { socketAnswers } from '../control/control-server.js';
import { Daemon } from '../daemon/daemon.js';
import { launchDaemon, type ReadyMessage } from '../daemon/launcher.js';
import { ConfigError, ProxyError } from '../errors.js';
import { displayUrl } from '../config/source-schema.js';

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
    if (await socketAnswers(paths.socket)) {
      let pid = '?';
      try {
        pid = readFileSync(paths.pidFile, 'utf8').trim();
      } catch {
        // No pidfile: report the socket only.
      }
      throw new ProxyError('ALREADY_RUNNING', `${this.bin} is already running (pid ${pid}, socket ${paths.socket})`);
    }
    const location = await locateConfig(this.role, flags.config);
    if (flags.foreground) return this.foreground(location.path, paths);

    await loadConfig(location.path, this.role);
    const args = [...(location.path ? ['--config', location.path] : []), ...(flags.socket ? ['--socket', flags.socket] : [])];
    const ready = await launchDaemon(process.argv[1], args, paths, (line) => process.stderr.write(`  ${line}\n`));
    this.report(ready, paths.logFile);
    return ready;
  }

  private async foreground(configPath: string | null, paths: ReturnType<BaseCommand['paths']>): Promise<ReadyMessage> {
    const daemon = new Daemon(this.role, configPath, paths);
    try {
      const { listeners, snapshot } = await daemon.start((line) => (process.send ? process.send({ type: 'progress', message: line } satisfies ReadyMessage) : this.say(line)));
      const remote = snapshot.configSource ? { remote: displayUrl(snapshot.configSource.url) } : {};
      const ready: ReadyMessage = { type: 'ready', pid: process.pid, listeners, source: snapshot.source, version: snapshot.version, warnings: snapshot.warnings, socket: paths.socket, ...remote };
      if (process.send) {
        process.send(ready);
        process.disconnect();
      }
      return ready;
    } catch (error) {
      if (process.send && error instanceof ProxyError) {
        process.send({ type: 'failed', code: error.code, message: error.message, exitCode: error.exitCode, ...(error instanceof ConfigError ? { problems: error.problems } : {}) } satisfies ReadyMessage);
        process.disconnect();
      }
      throw error;
    }
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
