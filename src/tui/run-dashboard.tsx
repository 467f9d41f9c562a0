import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { render, type Instance } from 'ink';
import type { ControlClient } from '../control/control-client.js';
import { toHar } from '../debug/har.js';
import { ProxyError } from '../errors.js';
import { DashboardApp, type DashboardActions } from './dashboard-app.js';
import { DashboardFeed } from './dashboard-feed.js';
import { DashboardModel } from './model/dashboard-model.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';
/** Signals that end the dashboard like `q` (Ctrl-C reaches it as a key while ink reads raw input). */
const SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;

/** A health_check block of the config in one line (`tcp 127.0.0.1:80 every 1s, timeout 1s`). */
function checkLine(check: Record<string, unknown>): string {
  const target = check.target ?? check.url ?? '';
  const extra = Object.entries(check)
    .filter(([key]) => !['type', 'target', 'url', 'interval', 'timeout'].includes(key))
    .map(([key, value]) => `${key} ${String(value)}`);
  return [`${String(check.type ?? 'tcp')} ${String(target)}`.trim(), check.interval !== undefined ? `every ${String(check.interval)}` : null, check.timeout !== undefined ? `timeout ${String(check.timeout)}` : null, ...extra].filter(Boolean).join(', ');
}

/** A backend's health_check block as the config file has it (secrets masked), or null. */
async function healthCheckOf(client: ControlClient, name: string): Promise<Record<string, unknown> | null> {
  const answer = await client.call('config');
  // The config as the file has it: its own schema (not the API's) says what a backend holds.
  const backends = answer.config.backends as Record<string, unknown>[] | undefined;
  const check = backends?.find((b) => b.name === name)?.health_check;
  return check && typeof check === 'object' ? (check as Record<string, unknown>) : null;
}

/** A HAR file name in the working directory, by the time it is written. */
function harName(now = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `simple-proxy-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}.har`;
}

/** The daemon requests behind the dashboard's keys. */
function actionsFor(client: ControlClient, version: string, quit: () => void): DashboardActions {
  return {
    setDebug: async (on) => {
      await client.call(on ? 'debugEnable' : 'debugDisable');
      return on ? 'debugger on: requests are recorded' : 'debugger off: what was kept stays';
    },
    replay: async (id, backend, force) => {
      const { original: a, replay: b } = await client.call('debugReplay', { body: { id, ...(backend ? { backend } : {}), force } }, 120_000);
      const size = (o: typeof a): string => (o.size === null ? '-' : `${o.size} B`);
      const took = (o: typeof a): string => (o.durationMs === null ? '-' : `${o.durationMs} ms`);
      const body = b.sha256 === null || a.sha256 === null ? '' : a.sha256 === b.sha256 ? ', same body' : ', different body';
      const outcome = b.status === null ? `failed: ${b.error ?? 'error'}` : `${b.status} in ${took(b)}, ${size(b)}${body}`;
      return { ok: b.status !== null, text: `replay of ${id} via ${b.backend ?? '-'}: ${outcome} (original via ${a.backend ?? '-'}: ${a.status ?? '-'} in ${took(a)}, ${size(a)})` };
    },
    switchBackend: async (rule, backend) => {
      const result = await client.call('ruleUpdate', { params: { name: rule }, body: { backend } });
      return `rule ${rule} now goes to backend ${backend} (config version ${result.version})`;
    },
    clear: async () => {
      await client.call('debugClear');
      return 'cleared: the list and the records the daemon kept';
    },
    exportHar: async (ids, file) => {
      const wanted = new Set(ids);
      const { records } = await client.call('debugTraffic', { query: { limit: '100000' } });
      const kept = records.filter((r) => wanted.has(r.id));
      const path = resolve(file ?? harName());
      // Headers and bodies may be in it (masked by the debugger): readable by the user only.
      await writeFile(path, `${JSON.stringify(toHar(kept, version), null, 2)}\n`, { mode: 0o600 });
      return `exported ${kept.length} of ${ids.length} requests to ${path}${kept.length < ids.length ? ' (the others are no longer kept by the daemon)' : ''}`;
    },
    reload: async () => {
      const result = await client.call('reload');
      return `config reloaded: version ${result.version}${result.restartRequired.length > 0 ? `; needs a restart: ${result.restartRequired.join(', ')}` : ''}`;
    },
    testBackend: async (name) => {
      // Against the backend's own check target when it has one (the daemon's default otherwise).
      const target = (await healthCheckOf(client, name).catch(() => null))?.target;
      const body = typeof target === 'string' ? { target } : {};
      const result = await client.call('backendTest', { params: { name }, body });
      const to = result.target ? ` (${result.target})` : '';
      return { ok: result.ok, text: result.ok ? `${name}: reachable in ${result.latencyMs} ms${to}` : `${name}: failed after ${result.latencyMs} ms${to}: ${result.error ?? 'unknown error'}` };
    },
    detail: async (id) => {
      try {
        return await client.call('debugRecord', { params: { id } });
      } catch (error) {
        if (error instanceof ProxyError && error.code === 'NOT_FOUND') return null;
        throw error;
      }
    },
    route: (host, from) => client.call('ruleTest', { query: { domain: host, ...(from ? { client: from } : {}) } }),
    backendCheck: async (name) => {
      const check = await healthCheckOf(client, name);
      return check ? checkLine(check) : null;
    },
    connections: async () => (await client.call('connections')).connections,
    closeConnections: async (target) => {
      const { closed } = await client.call('connectionsClose', { body: target });
      const what = 'id' in target ? `connection ${target.id}` : `connections of client ${target.client}`;
      return `closed ${closed} ${closed === 1 ? 'connection' : 'connections'}${closed === 0 ? ` (${what} had ended already)` : ` (${what})`}`;
    },
    // OSC 52: the terminal (and tmux, and an SSH client's terminal) takes it as a clipboard write.
    copy: (text) => void process.stdout.write(`\x1b]52;c;${Buffer.from(text).toString('base64')}\x07`),
    quit,
  };
}

/**
 * Runs the dashboard full screen until `q`: the alternate screen keeps the shell's scrollback
 * intact, and the terminal is restored however the process ends (quit, signal or crash).
 */
export async function runDashboard(client: ControlClient, { colour = true, version = '' }: { colour?: boolean; version?: string } = {}): Promise<void> {
  const model = new DashboardModel();
  const feed = new DashboardFeed(client, model);
  let instance: Instance | null = null;
  let restored = false;
  // ink draws its last frame when it unmounts: that must land on the alternate screen, before it
  // is left, or the shell is left holding a dump of the dashboard.
  const restore = (): void => {
    if (restored) return;
    restored = true;
    instance?.unmount();
    process.stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
  };
  const onSignal = (): void => instance?.unmount();
  process.stdout.write(ENTER_ALT_SCREEN);
  process.once('exit', restore);
  // Runs before Node prints an uncaught error, so the error shows on the shell's screen.
  process.once('uncaughtExceptionMonitor', restore);
  // Kept (on, not once) until the end: while a listener of ours is there, ink's exit hook leaves
  // the process alive for the restore below instead of re-raising the signal.
  for (const signal of SIGNALS) process.on(signal, onSignal);
  feed.start();
  try {
    const app = render(<DashboardApp model={model} actions={actionsFor(client, version, () => app.unmount())} colour={colour} />, { exitOnCtrlC: false, patchConsole: false });
    instance = app;
    await app.waitUntilExit();
  } finally {
    feed.stop();
    for (const signal of SIGNALS) process.off(signal, onSignal);
    restore();
    process.off('exit', restore);
    process.off('uncaughtExceptionMonitor', restore);
  }
}
