import type { HealthSource } from './health-source.js';

/**
 * The health view of an engine worker: the primary runs the checks and pushes which backends are
 * unhealthy; the worker sends back what its live traffic saw. A success is sent only to clear
 * failures this worker reported, so healthy traffic costs no messages.
 */
export class RemoteHealth implements HealthSource {
  private down = new Map<string, string>();
  private readonly failing = new Set<string>();

  constructor(private readonly send: (backend: string, ok: boolean, error?: string) => void) {}

  /** Takes the primary's current list of unhealthy backends (name → reason). */
  apply(down: Record<string, string>): void {
    this.down = new Map(Object.entries(down));
  }

  /** False while the primary has the backend marked unhealthy. */
  usable(name: string): boolean {
    return !this.down.has(name);
  }

  /** Why the primary marked the backend unhealthy. */
  reason(name: string): string | undefined {
    return this.down.get(name);
  }

  /** Forwards failures, and the first success after them. */
  report(name: string, ok: boolean, error?: string): void {
    if (ok) {
      if (!this.failing.delete(name)) return;
    } else {
      this.failing.add(name);
    }
    this.send(name, ok, error);
  }
}
