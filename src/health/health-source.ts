/**
 * Where routing learns which backends to skip, and where it reports what live traffic saw
 * (passive checks). In one process that is the HealthChecker itself; in an engine worker it is
 * the view the primary pushes.
 */
export interface HealthSource {
  /** False while the backend is marked unhealthy. */
  usable(name: string): boolean;
  /** Why the backend is marked unhealthy. */
  reason(name: string): string | undefined;
  /** The outcome of a live connection's dial through the backend (only failures the backend caused count against it). */
  report(name: string, ok: boolean, error?: string): void;
}
