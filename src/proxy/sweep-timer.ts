/**
 * One interval for everything a sweep watches, running only while something is watched: `look`
 * goes over what is watched and returns false when it found nothing to look at, which stops the
 * interval until the next `ensure()`. It stops only after a whole period found nothing, so things
 * that come and go one at a time do not start an interval each.
 */
export class SweepTimer {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly periodMs: number,
    private readonly look: () => boolean,
  ) {}

  /** Looks every period from now on, until a look finds nothing. */
  ensure(): void {
    this.timer ??= setInterval(() => this.tick(), this.periodMs).unref();
  }

  private tick(): void {
    if (this.look()) return;
    clearInterval(this.timer!);
    this.timer = null;
  }
}
