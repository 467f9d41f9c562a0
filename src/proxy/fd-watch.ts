import { readdir, readFile } from 'node:fs/promises';

const INTERVAL_MS = 2_000;
const NEAR = 0.95;
const QUIET_MS = 10_000;

/**
 * Watches this process's open file descriptors against its soft limit (Linux /proc). Near the
 * limit the kernel-level accept fails and libuv closes new connections unseen, so this is where
 * running out becomes visible: one warning per 10 s while at 95 % or more. Off where /proc is not.
 */
export class FdWatch {
  private timer: NodeJS.Timeout | null = null;
  private lastWarned = 0;
  private limit = 0;

  constructor(private readonly warn: (message: string) => void) {}

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.timer || process.platform !== 'linux') return;
    // Read now, while descriptors are free: the limit does not change under a running process.
    void readFile('/proc/self/limits', 'utf8').then(
      (text) => (this.limit = Number(/^Max open files\s+(\d+)/m.exec(text)?.[1] ?? 0)),
      () => undefined,
    );
    this.timer = setInterval(() => void this.sample(), INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    if (!this.limit) return;
    // Listing the descriptors takes one: failing for want of it is the answer itself.
    const open = await readdir('/proc/self/fd').then(
      (list) => list.length,
      (error: NodeJS.ErrnoException) => (error.code === 'EMFILE' || error.code === 'ENFILE' ? this.limit : 0),
    );
    if (open < this.limit * NEAR || Date.now() - this.lastWarned < QUIET_MS) return;
    this.lastWarned = Date.now();
    this.warn(`${open} of ${this.limit} file descriptors in use (EMFILE: out of file descriptors): new connections are refused until some close; raise the open-file limit (ulimit -n, LimitNOFILE)`);
  }
}
