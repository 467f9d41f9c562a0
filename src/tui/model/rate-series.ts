/**
 * Requests and bytes per second over the last `seconds` seconds, in a fixed ring of per-second
 * slots: memory stays constant whatever the traffic.
 */
export class RateSeries {
  private readonly requests: Float64Array;
  private readonly bytes: Float64Array;
  private readonly stamps: Float64Array;

  constructor(private readonly seconds = 120) {
    this.requests = new Float64Array(seconds);
    this.bytes = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  private lastSecond = Number.NEGATIVE_INFINITY;

  /** Whether anything was counted within the window at `nowMs` (the chart still moves). */
  busySince(nowMs: number): boolean {
    return Math.floor(nowMs / 1000) - this.lastSecond < this.seconds;
  }

  /** Counts finished requests and their bytes at time `nowMs`. */
  add(nowMs: number, requests: number, bytes: number): void {
    const second = Math.floor(nowMs / 1000);
    this.lastSecond = Math.max(this.lastSecond, second);
    const slot = second % this.seconds;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.requests[slot] = 0;
      this.bytes[slot] = 0;
    }
    this.requests[slot] += requests;
    this.bytes[slot] += bytes;
  }

  /** Per-second values, oldest first, ending with the last complete second before `nowMs`. */
  window(nowMs: number, length = this.seconds - 1): { requests: number[]; bytes: number[] } {
    const last = Math.floor(nowMs / 1000) - 1;
    const requests: number[] = [];
    const bytes: number[] = [];
    for (let second = last - Math.min(length, this.seconds - 1) + 1; second <= last; second++) {
      const slot = ((second % this.seconds) + this.seconds) % this.seconds;
      const fresh = this.stamps[slot] === second;
      requests.push(fresh ? this.requests[slot] : 0);
      bytes.push(fresh ? this.bytes[slot] : 0);
    }
    return { requests, bytes };
  }

  /** Seconds a column of a `columns`-wide chart spanning `spanSeconds` covers. */
  stepFor(columns: number, spanSeconds = 120): number {
    return Math.max(1, Math.min(Math.ceil(spanSeconds / columns), Math.floor((this.seconds - 1) / columns)));
  }

  /**
   * `columns` values, oldest first, each the per-second average over `step` seconds, with `step`
   * chosen so the chart spans at least `spanSeconds` (as far as the ring reaches). Columns are
   * whole `step`-second spans ending on a multiple of `step`: the chart moves once a column, not
   * every second (a frame that did not change is not written).
   */
  columns(nowMs: number, columns: number, spanSeconds = 120): { requests: number[]; bytes: number[]; step: number } {
    const step = this.stepFor(columns, spanSeconds);
    const { requests, bytes } = this.window(Math.floor(nowMs / 1000 / step) * step * 1000, columns * step);
    const average = (values: number[]): number[] => {
      const out: number[] = [];
      for (let end = values.length; end > 0; end -= step) {
        const group = values.slice(Math.max(0, end - step), end);
        out.unshift(group.reduce((a, b) => a + b, 0) / step);
      }
      return out;
    };
    return { requests: average(requests), bytes: average(bytes), step };
  }
}
