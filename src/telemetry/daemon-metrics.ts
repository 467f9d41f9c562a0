import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** A backend's health as the metrics show it (null: not known yet). */
export interface BackendHealthView {
  name: string;
  healthy: boolean;
  latencySeconds: number | null;
}

/**
 * The daemon's own metrics (uptime, reloads, backend health, the daemon process) and the merge
 * with the engine processes' proxy metrics into one Prometheus exposition.
 */
export class DaemonMetrics {
  private readonly registry = new Registry();
  private readonly reloads: Counter;
  private readonly reloadErrors: Counter;

  constructor(startedAt: number, backends: () => BackendHealthView[]) {
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
    this.reloads = new Counter({ name: 'proxy_config_reload_total', help: 'Configuration reloads applied', registers });
    this.reloadErrors = new Counter({ name: 'proxy_config_reload_errors_total', help: 'Configuration reloads rejected (the old config kept serving)', registers });
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

  /** Counts an applied reload. */
  reloaded(): void {
    this.reloads.inc();
  }

  /** Counts a rejected reload. */
  reloadFailed(): void {
    this.reloadErrors.inc();
  }

  /** The Prometheus text of the daemon's metrics merged with every engine process's. */
  async exposition(engines: MetricObjectWithValues<MetricValue<string>>[][]): Promise<{ contentType: string; text: string }> {
    const merged = AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...engines]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}
