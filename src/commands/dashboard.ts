import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { ProxyError } from '../errors.js';
import { claimInteractiveTerminal } from '../tui/interactive-terminal.js';

/** `dashboard`: the full-screen view of the running daemon. */
export default class DashboardCommand extends BaseCommand {
  static override summary = 'Open the full-screen dashboard: live traffic, throughput, backend health, limit hits';
  static override description = 'Keys: q quit, ? help (the keys of the focused pane), Tab/arrows move between panes, / filter (host: method: status: backend: client: user: rule: proto: dur: bytes:, ! | /regex/), F follow, s/S sort, Enter detail (n/N next/previous, c copy as curl), Esc back, p pause, r reload config, t test backend, m message log, d debugger on/off, e export the listed requests as HAR, C clear, : command line (Tab completes). Respects NO_COLOR. Works over SSH in any terminal of 80x24 or more.';
  static override examples = ['<%= config.bin %> dashboard', '<%= config.bin %> dashboard --socket /run/simple-proxy/server.sock'];
  static override enableJsonFlag = false;
  static override flags = {
    'no-color': Flags.boolean({ description: 'draw without colours (also when NO_COLOR is set); focus and selection stay marked', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DashboardCommand);
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new ProxyError('NOT_A_TERMINAL', `the dashboard needs a terminal; in scripts use "${this.bin} status --json" or "${this.bin} debug tail --json"`);
    }
    claimInteractiveTerminal();
    // React's development build keeps debugging data for every render: a dashboard left open
    // for hours must not pay for it.
    process.env.NODE_ENV ??= 'production';
    const colour = !flags['no-color'] && !process.env.NO_COLOR;
    // ink's colour library reads --no-color from the command line and then drops every style,
    // reverse video and bold too, which mark the cursor and focus: the dashboard drops colours
    // itself, so the library is told styles work.
    if (flags['no-color']) process.env.FORCE_COLOR ??= '1';
    // Imported here, not at the top: ink decides how to draw when it is loaded.
    const { runDashboard } = await import('../tui/run-dashboard.js');
    await runDashboard(this.client(flags.socket), { colour, version: this.config.version });
  }
}
