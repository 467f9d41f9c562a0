import { readdir, readFile } from 'node:fs/promises';
import type { DescriptorView, ExhaustedDuring } from '../engine/engine-api.js';

const INTERVAL_MS = 2_000;
const NEAR = 0.95;
const QUIET_MS = 10_000;

/** Whether an error is the process or the system running out of file descriptors. */
export function isOutOfDescriptors(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * This process's file descriptors: how many are open against the soft limit (sampled from
 * Linux /proc; nothing where it is missing), and the connections refused for want of them. Near
 * the limit the kernel-level accept fails and libuv closes new connections unseen, so the sample
 * is where that becomes visible: one warning per 10 s while at 95 % or more. Refusals the proxy
 * does see (a dial or a handed-over connection that failed with EMFILE) are counted and
 * reported in the same rhythm, so running out is loud without flooding the log.
 */
export class Descriptors {
  private timer: NodeJS.Timeout | null = null;
  private later: NodeJS.Timeout | null = null;
  private lastWarned = 0;
  private limit = 0;
  private open = 0;
  private readonly exhausted: Record<ExhaustedDuring, number> = { accept: 0, dial: 0 };
  /** Refusals not yet reported in a warning. */
  private unreported = 0;

  constructor(private readonly warn: (message: string) => void) {}

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.timer || process.platform !== 'linux') return;
    // Read now, while descriptors are free: the limit does not change under a running process.
    void readFile('/proc/self/limits', 'utf8').then(
      (text) => {
        this.limit = Number(/^Max open files\s+(\d+)/m.exec(text)?.[1] ?? 0);
        void this.sample();
      },
      () => undefined,
    );
    this.timer = setInterval(() => void this.sample(), INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.later) clearTimeout(this.later);
    this.timer = this.later = null;
  }

  /** Counts one connection refused for want of descriptors. */
  refused(during: ExhaustedDuring): void {
    this.exhausted[during]++;
    this.unreported++;
    this.report();
  }

  /** A failed accept other than for want of descriptors: logged, never fatal. */
  acceptFailed(error: NodeJS.ErrnoException): void {
    if (isOutOfDescriptors(error)) return this.refused('accept');
    this.warn(`could not accept a connection (${error.code ?? error.message}); open connections are still served`);
  }

  /** The last sample and the refusals so far. */
  view(): DescriptorView {
    return { open: this.open, limit: this.limit, exhausted: { ...this.exhausted } };
  }

  private async sample(): Promise<void> {
    if (!this.limit) return;
    // Listing the descriptors takes one: failing for want of it is the answer itself.
    this.open = await readdir('/proc/self/fd').then(
      (list) => list.length,
      (error: NodeJS.ErrnoException) => (isOutOfDescriptors(error) ? this.limit : 0),
    );
    if (this.open >= this.limit * NEAR) this.report();
  }

  private report(): void {
    const wait = this.lastWarned + QUIET_MS - Date.now();
    if (wait > 0) {
      // Refusals within the quiet time are told at its end.
      this.later ??= setTimeout(() => {
        this.later = null;
        if (this.unreported > 0) this.report();
      }, wait).unref();
      return;
    }
    this.lastWarned = Date.now();
    const refused = this.unreported > 0 ? `; ${this.unreported} connection${this.unreported === 1 ? '' : 's'} refused for want of one since the last warning` : '';
    this.unreported = 0;
    const inUse = this.limit > 0 ? `${Math.max(this.open, 0)} of ${this.limit} file descriptors in use` : 'out of file descriptors';
    this.warn(`${inUse} (EMFILE: out of file descriptors)${refused}: new connections are refused until some close; raise the open-file limit (ulimit -n, LimitNOFILE)`);
  }
}

/** Several processes' views as one: the process nearest its limit, and every process's refusals. */
export function mergeDescriptors(views: DescriptorView[]): DescriptorView {
  const ratio = (v: DescriptorView): number => (v.limit > 0 ? v.open / v.limit : 0);
  const fullest = views.reduce((a, b) => (ratio(b) > ratio(a) ? b : a), { open: 0, limit: 0, exhausted: { accept: 0, dial: 0 } });
  const exhausted = { accept: 0, dial: 0 };
  for (const v of views) for (const during of ['accept', 'dial'] as const) exhausted[during] += v.exhausted[during];
  return { open: fullest.open, limit: fullest.limit, exhausted };
}
