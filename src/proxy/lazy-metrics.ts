import type { ProxyMetrics } from '../telemetry/proxy-metrics.js';

/** What the proxy metrics read from the engine (ProxyMetrics' constructor arguments). */
export type MetricSources = ConstructorParameters<typeof ProxyMetrics>;

/**
 * An engine's proxy metrics, loaded and created only while a config enables them: prom-client is
 * megabytes an unmetered engine does not carry, and an unmetered proxy pays nothing per record.
 */
export class LazyMetrics {
  private module: typeof import('../telemetry/proxy-metrics.js') | null = null;
  private metrics: ProxyMetrics | null = null;

  constructor(private readonly sources: () => MetricSources) {}

  /** Whether the module must still be loaded for a config whose metrics section is `enabled` (set or null). */
  missing(enabled: unknown): boolean {
    return Boolean(enabled) && this.module === null;
  }

  /** Loads the module when a config with metrics `enabled` needs it. */
  async load(enabled: unknown): Promise<void> {
    if (this.missing(enabled)) this.module = await import('../telemetry/proxy-metrics.js');
  }

  /** The metrics (created on first use) while `enabled` and loaded; null otherwise. */
  get(enabled: unknown): ProxyMetrics | null {
    if (!enabled || this.module === null) return null;
    return (this.metrics ??= new this.module.ProxyMetrics(...this.sources()));
  }
}
