import { BaseCommand } from '../cli/base-command.js';
import { ProxyError } from '../errors.js';
import { claimInteractiveTerminal } from '../tui/interactive-terminal.js';

/** `dashboard`: the full-screen view of the running daemon. */
export default class DashboardCommand extends BaseCommand {
  static override summary = 'Open the full-screen dashboard: live traffic, throughput, backend health, limit hits';
  static override description = 'Keys: q quit, ? help, Tab/arrows move between panes, / filter, Enter detail, Esc back, p pause, r reload config, t test backend. Works over SSH in any terminal of 80x24 or more.';
  static override examples = ['<%= config.bin %> dashboard', '<%= config.bin %> dashboard --socket /run/simple-proxy/server.sock'];
  static override enableJsonFlag = false;

  async run(): Promise<void> {
    const { flags } = await this.parse(DashboardCommand);
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new ProxyError('NOT_A_TERMINAL', `the dashboard needs a terminal; in scripts use "${this.bin} status --json" or "${this.bin} debug tail --json"`);
    }
    claimInteractiveTerminal();
    // Imported here, not at the top: ink decides how to draw when it is loaded.
    const { runDashboard } = await import('../tui/run-dashboard.js');
    await runDashboard(this.client(flags.socket));
  }
}
