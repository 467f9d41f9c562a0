// Apart from the section schemas: the health checker of every engine process reads these, and zod stays out of those processes.

/** `health_checks.defaults`: what a backend's own `health_check:` does not say. */
export interface HealthCheckDefaults {
  interval: string;
  timeout: string;
  healthy_threshold: number;
  unhealthy_threshold: number;
}

/** The check defaults without a `health_checks.defaults` section. */
export const BUILT_IN_CHECK_DEFAULTS: HealthCheckDefaults = { interval: '30s', timeout: '5s', healthy_threshold: 2, unhealthy_threshold: 3 };
