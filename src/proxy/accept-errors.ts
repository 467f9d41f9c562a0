const WINDOW_MS = 10_000;

/**
 * Failures to accept a connection (EMFILE, ENFILE: out of file descriptors), reported as one
 * warning per 10 s with how many there were, so running out is loud without flooding the log.
 * The listener keeps accepting once descriptors are free again.
 */
export class AcceptErrors {
  private count = 0;
  private last = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly warn: (message: string) => void) {}

  /** Counts one failure; the first of a window is reported at once, the rest at its end. */
  report(error: NodeJS.ErrnoException): void {
    this.last = error.code ?? error.message;
    if (this.timer) return void this.count++;
    this.warn(describe(1, this.last));
    this.timer = setTimeout(() => this.flush(), WINDOW_MS);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = null;
    if (this.count === 0) return;
    const count = this.count;
    this.count = 0;
    this.warn(describe(count, this.last));
    this.timer = setTimeout(() => this.flush(), WINDOW_MS);
    this.timer.unref();
  }
}

function describe(count: number, code: string): string {
  const why = code === 'EMFILE' || code === 'ENFILE' ? `${code}: out of file descriptors; raise the open-file limit (ulimit -n, LimitNOFILE)` : code;
  return `could not accept ${count} connection${count === 1 ? '' : 's'} (${why}); open connections are still served`;
}
