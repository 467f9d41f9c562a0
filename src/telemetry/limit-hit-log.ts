import type { LimitHit } from '../policy/limit-hit.js';
import type { Logger } from './logger.js';

const LINES_PER_SECOND = 20;

/**
 * Logs each refusal of the traffic policy with its reason, up to 20 lines a second; beyond that
 * a flood is summed up in one line per second instead of drowning the log.
 */
export class LimitHitLog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;
  private summary: NodeJS.Timeout | null = null;

  constructor(private readonly logger: Logger) {}

  /** Logs one refusal (or counts it when the second's budget is spent). */
  log(hit: LimitHit): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (++this.inWindow > LINES_PER_SECOND) {
      this.suppressed++;
      this.summary ??= setTimeout(() => this.flush(), 1000);
      return;
    }
    this.logger.info(`refused: ${hit.reason}`, { scope: hit.scope, client: hit.client, protocol: hit.protocol, ...(hit.target ? { target: hit.target } : {}), ...(hit.user ? { user: hit.user } : {}), ...(hit.mode ? { mode: hit.mode } : {}) });
  }

  /** Writes the pending summary line now. */
  flush(): void {
    if (this.summary) clearTimeout(this.summary);
    this.summary = null;
    if (this.suppressed === 0) return;
    this.logger.info(`refused ${this.suppressed} more request(s) or connection(s) (not logged one by one)`);
    this.suppressed = 0;
  }
}
