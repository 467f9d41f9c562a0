import type { StatsAnswer, StatusAnswer } from '../../control/answers/daemon.js';
import type { StreamLine } from '../../control/answers/records.js';
import { applyHealthEvent, backendRow, orderBackends, type BackendRow } from './backend-rows.js';
import { formatClock } from './format.js';
import { LimitStats } from './limit-stats.js';
import { RateSeries } from './rate-series.js';
import { TrafficHistory } from './traffic-history.js';

export type { BackendRow } from './backend-rows.js';

/** Open connections against network.limits, from the daemon's stats. */
export interface ConnectionLoad {
  active: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** The clients with the most open connections, most first. */
  busiest: { client: string; active: number }[];
  /** File descriptors open against the limit (engine process nearest it), and connections refused for want of one. */
  files: { open: number; limit: number; refused: number };
}

/** What the status line shows. */
export interface DaemonSummary {
  role: string;
  pid: number | null;
  /** When the daemon started (ms since epoch): uptime is counted from it at each clock tick. */
  startedAt: number;
  listeners: string;
  configVersion: string;
  configSource: string;
  connectionsActive: number;
  debug: boolean;
}

/** The state of the link to the daemon. */
export type LinkState = { state: 'connecting' } | { state: 'connected' } | { state: 'lost'; since: number; error: string };

/** One line of the message log. */
export interface Message {
  text: string;
  error: boolean;
  at: number;
}

/** The stats' `descriptors`, with the refusals summed. */
function filesOf(d: StatsAnswer['descriptors']): ConnectionLoad['files'] {
  return { open: d.open, limit: d.limit, refused: d.exhausted.accept + d.exhausted.dial };
}

/** Messages kept for the log (`m`). */
const MESSAGES_KEPT = 200;

/**
 * Everything the dashboard shows, fed by the daemon's live events and status polls. Pure data:
 * bounded whatever the event rate or how long it stays open.
 */
export class DashboardModel {
  readonly traffic: TrafficHistory;
  readonly series = new RateSeries(600);
  readonly limits = new LimitStats();
  backends: BackendRow[] = [];
  summary: DaemonSummary | null = null;
  load: ConnectionLoad | null = null;
  private linkState: LinkState = { state: 'connecting' };
  /** What the last status poll showed, to tell whether the next one changes anything on screen. */
  private shown = '';
  /** The last result worth telling (reload, backend test), and every one before it, newest last. */
  message: Message | null = null;
  readonly messages: Message[] = [];
  /**
   * Bumped by whatever changes what is drawn (traffic, a key's result, the link); status polls
   * bump it only when they change what is on screen: an idle daemon costs no frames.
   */
  revision = 0;

  constructor(history = 500) {
    this.traffic = new TrafficHistory(history);
  }

  /** The link to the daemon. */
  get link(): LinkState {
    return this.linkState;
  }

  set link(link: LinkState) {
    if (link.state !== this.linkState.state || (link.state === 'lost' && this.linkState.state === 'lost' && link.error !== this.linkState.error)) this.revision++;
    this.linkState = link;
  }

  /** Shows a line in the footer and keeps it in the message log. */
  tell(text: string, error: boolean, at: number): void {
    this.message = { text, error, at };
    this.messages.push(this.message);
    if (this.messages.length > MESSAGES_KEPT) this.messages.shift();
    this.revision++;
  }

  /** Applies one event of the live stream. */
  apply(event: StreamLine, nowMs: number): void {
    switch (event.type) {
      case 'connection:start':
        this.traffic.upsert(event.record, true);
        break;
      case 'connection:end': {
        const { record } = event;
        this.traffic.upsert(record, false);
        // Its bytes were counted as they flowed (throughput events), not now.
        this.series.add(nowMs, 1, 0);
        break;
      }
      case 'throughput':
        this.series.add(nowMs, 0, event.bytes);
        break;
      case 'limit:hit':
        this.limits.add(event.hit, nowMs);
        break;
      case 'backend:health': {
        const row = this.backends.find((b) => b.name === event.backend);
        if (!row) return;
        if (applyHealthEvent(row, event, nowMs)) orderBackends(this.backends);
        break;
      }
      case 'reload':
        if (event.ok) this.tell(`config reloaded: version ${event.version ?? '?'}`, false, nowMs);
        else this.tell(`reload rejected: ${(event.errors ?? []).join('; ')}`, true, nowMs);
        return;
      case 'warning':
        this.tell(event.message, true, nowMs);
        return;
      default:
        return;
    }
    this.revision++;
  }

  /**
   * Takes the daemon's `/api/status` and `/api/stats` answers. A daemon that started anew since
   * the last answer is marked in the traffic list, and a debugger the restart turned off is told.
   */
  applyStatus(status: StatusAnswer, stats: StatsAnswer | null, nowMs = Date.now()): void {
    const started = Date.parse(status.startedAt);
    const previous = this.summary;
    const summary: DaemonSummary = {
      role: status.role,
      pid: status.pid,
      startedAt: Number.isFinite(started) ? started : nowMs - status.uptimeSeconds * 1000,
      listeners: status.listeners.map((l) => `${l.kind} ${l.host}:${l.port}`).join(', '),
      configVersion: status.config.version,
      configSource: status.config.source ?? 'embedded default',
      connectionsActive: status.connections.active,
      debug: status.debug.enabled,
    };
    this.summary = summary;
    if (previous && (previous.startedAt !== summary.startedAt || previous.pid !== summary.pid)) {
      this.traffic.mark(`── daemon restarted at ${formatClock(summary.startedAt)} (pid ${summary.pid ?? '?'}) ──`, nowMs);
      this.revision++;
      if (previous.debug && !summary.debug) this.tell('the daemon restarted and its debugger is off: press d (or run "debug on") to record requests again', true, nowMs);
    }
    const perBackend = stats?.limits.maxConnectionsPerBackend ?? 0;
    const before = new Map(this.backends.map((b) => [b.name, b]));
    this.backends = orderBackends(status.backends.map((b) => backendRow(b, stats?.backends[b.name], before.get(b.name), perBackend, nowMs)));
    this.load = stats
      ? {
          active: stats.connectionsActive,
          maxConnections: stats.limits.maxConnections,
          maxConnectionsPerIp: stats.limits.maxConnectionsPerIp,
          files: filesOf(stats.descriptors),
          busiest: stats.busiestClients,
        }
      : null;
    const shown = JSON.stringify([{ ...summary, startedAt: 0 }, this.backends.map((b) => [b.name, b.health, b.reason, b.latencyMs, b.failures, b.uptimePercent, b.active, b.total, b.errors, b.limit]), this.load]);
    if (shown !== this.shown) this.revision++;
    this.shown = shown;
  }
}
