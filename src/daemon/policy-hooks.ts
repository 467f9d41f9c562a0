import { dirname, resolve } from 'node:path';
import type { ConfigSnapshot } from '../config/model.js';
import { ProxyError } from '../errors.js';
import { openRelayProblem } from '../policy/open-relay.js';
import { policySettings } from '../policy/policy-settings.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { Engine } from '../engine/engine-api.js';
import { AccessLog } from '../telemetry/access-log.js';
import { LimitHitLog } from '../telemetry/limit-hit-log.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * The daemon's side of the traffic policy: refuses a config that would make an open proxy,
 * writes the access log and logs refusals. The access log is written here, in the daemon's
 * process, even when the engine runs in worker processes: records arrive in batches over IPC,
 * one writer keeps the file's lines whole and in order, and one place reopens it on SIGUSR1.
 */
export class PolicyHooks {
  private accessLog: AccessLog | null = null;
  private readonly hits: LimitHitLog;
  /** Refusals since the daemon started, by scope, whether or not metrics are exposed (the dashboard opens with them). */
  private readonly hitTotals: Record<string, number> = {};
  private readonly onRecord = (record: ConnectionRecord): void => this.accessLog?.write(record);

  constructor(private readonly logger: Logger) {
    this.hits = new LimitHitLog(logger);
  }

  /** Throws when a snapshot would serve as an open proxy without saying so. */
  check(snapshot: ConfigSnapshot): void {
    const problem = openRelayProblem(snapshot);
    if (problem) throw new ProxyError('OPEN_RELAY', problem);
  }

  /** Opens the access log and follows the engine's records and refusals. */
  async start(snapshot: ConfigSnapshot, engine: Engine): Promise<void> {
    const { settings, path } = accessLogOf(snapshot);
    this.accessLog = await AccessLog.open(settings, path, (message) => this.logger.warn(message));
    engine.on('limit:hit', (hit) => {
      this.hitTotals[hit.scope] = (this.hitTotals[hit.scope] ?? 0) + 1;
      this.hits.log(hit);
    });
    // Records cross from worker processes only while someone listens: only listen when logging.
    this.follow(engine, settings.enabled);
  }

  /** Refusals since the daemon started, by scope. */
  limitHits(): Record<string, number> {
    return { ...this.hitTotals };
  }

  /** Applies a reloaded snapshot's access-log settings. */
  async apply(snapshot: ConfigSnapshot, engine: Engine): Promise<void> {
    const { settings, path } = accessLogOf(snapshot);
    await this.accessLog?.configure(settings, path);
    this.follow(engine, settings.enabled);
  }

  /** Reopens the access log file (SIGUSR1, after rotation). */
  async reopen(): Promise<void> {
    await this.accessLog?.reopen();
    this.logger.info('access log reopened');
  }

  /** Flushes and closes the access log. */
  async close(): Promise<void> {
    this.hits.flush();
    await this.accessLog?.close();
  }

  private follow(engine: Engine, enabled: boolean): void {
    engine.off('connection:end', this.onRecord);
    if (enabled) engine.on('connection:end', this.onRecord);
  }
}

function accessLogOf(snapshot: ConfigSnapshot): { settings: ReturnType<typeof policySettings>['accessLog']; path: string | null } {
  const settings = policySettings(snapshot).accessLog;
  const base = snapshot.source === null ? process.cwd() : dirname(snapshot.source);
  return { settings, path: settings.file === undefined ? null : resolve(base, settings.file) };
}
