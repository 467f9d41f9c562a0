import type { ControlClient } from '../control/control-client.js';
import type { DashboardModel } from './model/dashboard-model.js';

/** Status and health change slowly: a poll every two seconds keeps an idle dashboard cheap for both ends. */
const POLL_MS = 2000;
const RETRY_MS = 1000;
/** Records asked for on (re)connect: as many as the traffic list keeps. */
const BACKFILL = 500;

/**
 * Feeds a DashboardModel from the daemon: the live event stream and a status poll. On open and
 * after each reconnect it loads what the daemon already holds (kept records, refusal totals by scope).
 * When the daemon goes away it says so in the model and keeps retrying until it is back.
 */
export class DashboardFeed {
  private readonly abort = new AbortController();
  private poller: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: ControlClient,
    private readonly model: DashboardModel,
  ) {}

  /** Starts following; returns at once. */
  start(): void {
    void this.followLoop();
    void this.poll();
    this.poller = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Stops following and polling. */
  stop(): void {
    this.abort.abort();
    if (this.poller) clearInterval(this.poller);
  }

  private async followLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.client.follow(
          'events',
          (event) => this.model.apply(event, Date.now()),
          this.abort.signal,
          // Live from here: what came before is loaded once, and events merge with it by id.
          () => {
            this.model.link = { state: 'connected' };
            void this.backfill();
          },
        );
        if (!this.abort.signal.aborted) this.lost('the daemon closed the event stream');
      } catch (error) {
        this.lost((error as Error).message);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  private async backfill(): Promise<void> {
    const [traffic, stats] = await Promise.all([
      // A viewer key may not read captured requests: say why the list starts empty rather than nothing.
      this.client.call('debugTraffic', { query: { limit: String(BACKFILL) } }, 5000).catch((error: Error) => {
        this.model.tell(`earlier requests not loaded: ${error.message}`, false, Date.now());
        return null;
      }),
      this.client.call('stats', {}, 5000).catch(() => null),
    ]);
    if (traffic) this.model.traffic.backfill(traffic.records);
    if (stats?.limitHits) this.model.limits.setTotals(stats.limitHits);
    this.model.revision++;
  }

  private async poll(): Promise<void> {
    try {
      const [status, stats] = await Promise.all([
        this.client.call('status', {}, 3000),
        this.client.call('stats', {}, 3000).catch(() => null),
      ]);
      this.model.applyStatus(status, stats);
      this.model.link = { state: 'connected' };
    } catch (error) {
      this.lost((error as Error).message);
    }
  }

  private lost(error: string): void {
    if (this.abort.signal.aborted) return;
    this.model.link = this.model.link.state === 'lost' ? { ...this.model.link, error } : { state: 'lost', since: Date.now(), error };
  }
}
