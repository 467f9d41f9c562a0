import type { HealthSource } from './health-source.js';

/**
 * The health view of an engine worker: the primary runs the checks and pushes which backends are
 * unhealthy; the worker sends back what its live traffic saw. A success is sent only when the
 * primary may not know it (the first one, or the first after a failure or an unhealthy mark), so
 * healthy traffic costs no messages.
 */
export class RemoteHealth implements HealthSource {
  private down = new Map<string, string>();
  /** Backends whose last word from this worker was a success the primary has not contradicted since. */
  private readonly clear = new Set<string>();

  constructor(private readonly send: (backend: string, ok: boolean, error?: string) => void) {}

  /** Takes the primary's current list of unhealthy backends (name → reason). */
  apply(down: Record<string, string>): void {
    this.down = new Map(Object.entries(down));
    for (const name of this.down.keys()) this.clear.delete(name);
  }

  /** False while the primary has the backend marked unhealthy. */
  usable(name: string): boolean {
    return !this.down.has(name);
  }

  /** Why the primary marked the backend unhealthy. */
  reason(name: string): string | undefined {
    return this.down.get(name);
  }

  /** Forwards failures, and a success the primary may not know of. */
  report(name: string, ok: boolean, error?: string): void {
    if (ok) {
      if (this.clear.has(name)) return;
      this.clear.add(name);
    } else {
      this.clear.delete(name);
    }
    this.send(name, ok, error);
  }
}
