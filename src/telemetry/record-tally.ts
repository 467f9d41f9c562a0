import type { Counter } from 'prom-client';

/** What one backend's finished records add up to since the last scrape. */
interface BackendTally {
  success: number;
  error: number;
  /** By error label. */
  errors: Map<string, number>;
  /** By method label. */
  methods: Map<string, number>;
}

/** The counters a tally is moved into. */
export interface TallyCounters {
  connectionsTotal: Counter<'backend' | 'status'>;
  connectionErrors: Counter<'backend' | 'error'>;
  requestsTotal: Counter<'method' | 'backend'>;
}

/**
 * The per-record counters, counted in plain numbers and moved into prom-client at scrape time:
 * a labelled inc() hashes its labels on every call, several microseconds per tunnel or request
 * across three counters, and nobody reads them between scrapes.
 */
export class RecordTally {
  private readonly backends = new Map<string, BackendTally>();

  /** Counts one finished record; `error` is its error label when it failed, else null. */
  add(backend: string, method: string, error: string | null): void {
    let tally = this.backends.get(backend);
    if (tally === undefined) this.backends.set(backend, (tally = { success: 0, error: 0, errors: new Map(), methods: new Map() }));
    if (error === null) tally.success++;
    else {
      tally.error++;
      tally.errors.set(error, (tally.errors.get(error) ?? 0) + 1);
    }
    tally.methods.set(method, (tally.methods.get(method) ?? 0) + 1);
  }

  /** Adds everything counted since the last call to the counters, and starts again from zero. */
  moveInto(counters: TallyCounters): void {
    // Backends and labels are few and bounded: their entries stay, at zero, for the next records.
    for (const [backend, tally] of this.backends) {
      if (tally.success > 0) counters.connectionsTotal.inc({ backend, status: 'success' }, tally.success);
      if (tally.error > 0) counters.connectionsTotal.inc({ backend, status: 'error' }, tally.error);
      tally.success = 0;
      tally.error = 0;
      for (const [error, count] of tally.errors) {
        if (count === 0) continue;
        counters.connectionErrors.inc({ backend, error }, count);
        tally.errors.set(error, 0);
      }
      for (const [method, count] of tally.methods) {
        if (count === 0) continue;
        counters.requestsTotal.inc({ method, backend }, count);
        tally.methods.set(method, 0);
      }
    }
  }
}
