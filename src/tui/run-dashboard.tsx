import { render } from 'ink';
import type { ControlClient } from '../control/control-client.js';
import { ProxyError } from '../errors.js';
import { DashboardApp, type DashboardActions } from './dashboard-app.js';
import { DashboardFeed } from './dashboard-feed.js';
import { DashboardModel } from './model/dashboard-model.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

/** The daemon requests behind the dashboard's keys, each answered with one line. */
function actionsFor(client: ControlClient, quit: () => void): DashboardActions {
  return {
    reload: async () => {
      const result = await client.call<{ version: string; restartRequired: string[] }>('POST', '/api/config/reload');
      return `config reloaded: version ${result.version}${result.restartRequired.length > 0 ? `; needs a restart: ${result.restartRequired.join(', ')}` : ''}`;
    },
    testBackend: async (name) => {
      const result = await client.call<{ ok: boolean; latencyMs: number; error?: string }>('POST', `/api/backends/${encodeURIComponent(name)}/test`, {});
      return result.ok ? `${name}: reachable in ${result.latencyMs} ms` : `${name}: failed after ${result.latencyMs} ms: ${result.error ?? 'unknown error'}`;
    },
    detail: async (id) => {
      try {
        return await client.call<Record<string, unknown>>('GET', `/api/debug/traffic/${encodeURIComponent(id)}`);
      } catch (error) {
        if (error instanceof ProxyError && error.code === 'NOT_FOUND') return null;
        throw error;
      }
    },
    quit,
  };
}

/**
 * Runs the dashboard full screen until `q`: the alternate screen keeps the shell's scrollback
 * intact, and the terminal is restored however the process ends (quit, signal or crash).
 */
export async function runDashboard(client: ControlClient): Promise<void> {
  const model = new DashboardModel();
  const feed = new DashboardFeed(client, model);
  const restore = (): void => void process.stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
  process.stdout.write(ENTER_ALT_SCREEN);
  process.once('exit', restore);
  feed.start();
  let quit = (): void => undefined;
  const instance = render(<DashboardApp model={model} actions={actionsFor(client, () => quit())} />, { exitOnCtrlC: false, patchConsole: false });
  quit = () => instance.unmount();
  const onSignal = (): void => instance.unmount();
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  try {
    await instance.waitUntilExit();
  } finally {
    feed.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    restore();
    process.off('exit', restore);
  }
}
