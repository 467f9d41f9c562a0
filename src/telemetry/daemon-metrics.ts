import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** A backend's health as the metrics show it (null: not known yet). */
export interface BackendHealthView {
  name: string;
  healthy: boolean;
  latencySeconds: number | null;
}

/** Reloads the daemon applied and rejected since it started. */
export interface ReloadCounts {
  applied: number;
  rejected: number;
}

/**
 * The daemon's own metrics (uptime, reloads, backend health, the daemon process) and the merge
 * with the engine processes' proxy metrics into one Prometheus exposition. The daemon makes it
 * with the first scrape (prom-client stays unloaded where nobody asks for metrics), so every
 * figure is read from the daemon when collected.
 */
export class DaemonMetrics {
  private readonly registry = new Registry();

  constructor(startedAt: number, backends: () => BackendHealthView[], reloads: () => ReloadCounts) {
    const registers = [this.registry];
    new Gauge({
      name: 'proxy_uptime_seconds',
      help: 'Seconds since the daemon started',
      registers,
      aggregator: 'max',
      collect() {
        this.set(Math.round((Date.now() - startedAt) / 1000));
      },
    });
    const counter = (name: string, help: string, count: (counts: ReloadCounts) => number): Counter =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(count(reloads()));
        },
      });
    counter('proxy_config_reload_total', 'Configuration reloads applied', (counts) => counts.applied);
    counter('proxy_config_reload_errors_total', 'Configuration reloads rejected (the old config kept serving)', (counts) => counts.rejected);
    new Gauge({
      name: 'proxy_backend_healthy',
      help: 'Whether a backend is healthy (1) or not (0)',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.set({ backend: b.name }, b.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: 'proxy_backend_latency_seconds',
      help: 'Latency of the last successful check through a backend',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        for (const b of backends()) if (b.latencySeconds !== null) this.set({ backend: b.name }, b.latencySeconds);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text of the daemon's metrics merged with every engine process's. */
  async exposition(engines: MetricObjectWithValues<MetricValue<string>>[][]): Promise<{ contentType: string; text: string }> {
    const merged = AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...engines]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}
