import { CREDENTIALS_REFUSED } from './backend-fault.js';

/** What a backend's health is known to be. */
export type HealthStatus = 'healthy' | 'unhealthy' | 'unknown';

/** A backend's health as the status API, `backend list` and metrics read it. */
export interface BackendHealth {
  name: string;
  status: HealthStatus;
  /** Whether active checks run for this backend (otherwise only live traffic tells: passive health). */
  checked: boolean;
  /** Since when the status holds (ms since epoch), or null while nothing is known. */
  since: number | null;
  /** When the last active check finished (ms since epoch), or null before the first. */
  lastCheck: number | null;
  /** Duration of the last successful check, or null before one succeeded. */
  latencyMs: number | null;
  /** Failed checks and failed connections on live traffic since the last success. */
  consecutiveFailures: number;
  /** Share of active checks that passed since monitoring of this backend began, or null before the first. */
  uptimePercent: number | null;
  /** Active checks made so far. */
  checks: number;
  /** Why the backend is unhealthy (or why the last check failed). */
  reason?: string;
  /** The last failure seen (a check or live traffic), kept after the backend recovers. */
  lastError?: { at: number; message: string };
  /** What live traffic last said of the backend's upstream credentials: refused, or accepted (a connection went through); absent before either. */
  credentials?: 'accepted' | 'refused';
}

/** A change of a backend's health, as the engine publishes it (`'backend:health'`). */
export interface BackendHealthEvent {
  backend: string;
  healthy: boolean;
  status: HealthStatus;
  latencyMs: number | null;
  consecutiveFailures: number;
  lastCheck: number | null;
  reason?: string;
}

/** How many results in a row flip the status. */
export interface Thresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/**
 * The health state machine of one backend. A backend starts unknown (and routable); the first
 * active check decides either way, since nothing is known that it could contradict. From then on
 * `healthy_threshold` passing checks in a row make it healthy and `unhealthy_threshold`
 * failures in a row (checks or live connections) make it unhealthy.
 */
export class BackendHealthState {
  status: HealthStatus = 'unknown';
  lastCheck: number | null = null;
  latencyMs: number | null = null;
  consecutiveFailures = 0;
  reason: string | undefined;
  since: number | null = null;
  lastError: { at: number; message: string } | undefined;
  credentials: 'accepted' | 'refused' | undefined;
  private consecutivePasses = 0;
  private checks = 0;
  private passes = 0;

  /** Records an active check; returns true when the status changed. */
  recordCheck(ok: boolean, latencyMs: number, error: string | undefined, thresholds: Thresholds, now = Date.now()): boolean {
    this.lastCheck = now;
    this.checks++;
    if (ok) {
      this.passes++;
      this.latencyMs = latencyMs;
      this.consecutiveFailures = 0;
      this.consecutivePasses++;
      if (this.status === 'healthy' || (this.status === 'unhealthy' && this.consecutivePasses < thresholds.healthyThreshold)) return false;
      this.reason = undefined;
      return this.become('healthy');
    }
    this.reason = error;
    this.lastError = { at: now, message: error ?? 'failed' };
    this.consecutivePasses = 0;
    this.consecutiveFailures++;
    if (this.status === 'unknown' || this.consecutiveFailures >= thresholds.unhealthyThreshold) return this.become('unhealthy');
    return false;
  }

  /** Records the outcome of a connection on live traffic; returns true when the status changed. */
  recordTraffic(ok: boolean, error: string | undefined, thresholds: Thresholds): boolean {
    this.noteCredentials(ok, error);
    if (ok) {
      this.consecutiveFailures = 0;
      return false;
    }
    this.lastError = { at: Date.now(), message: error ?? 'failed' };
    this.consecutivePasses = 0;
    this.consecutiveFailures++;
    if (this.consecutiveFailures < thresholds.unhealthyThreshold) return false;
    this.reason = `${this.consecutiveFailures} connections in a row failed: ${error ?? 'failed'}`;
    return this.become('unhealthy');
  }

  /**
   * Passive health, for a backend without active checks: a success makes it healthy at once,
   * `unhealthyThreshold` failures in a row unhealthy. Returns true when the status changed.
   */
  recordPassive(ok: boolean, error: string | undefined, unhealthyThreshold: number): boolean {
    this.noteCredentials(ok, error);
    if (ok) {
      this.consecutiveFailures = 0;
      this.reason = undefined;
      return this.become('healthy');
    }
    this.lastError = { at: Date.now(), message: error ?? 'failed' };
    this.consecutiveFailures++;
    this.reason = `${this.consecutiveFailures} connection${this.consecutiveFailures === 1 ? '' : 's'} in a row failed: ${error ?? 'failed'}`;
    return this.consecutiveFailures >= unhealthyThreshold && this.become('unhealthy');
  }

  /** Ends a passive mark once its hold is over: nothing is known again until traffic tells; returns true when the status changed. */
  expire(): boolean {
    if (this.status !== 'unhealthy') return false;
    this.reason = `${this.reason ?? 'unhealthy'} (no connection tried since)`;
    return this.become('unknown');
  }

  /** The state as the API shows it (`checked`: false for passive health). */
  view(name: string, checked = true): BackendHealth {
    return {
      name,
      status: this.status,
      checked,
      since: this.since,
      lastCheck: this.lastCheck,
      latencyMs: this.latencyMs,
      consecutiveFailures: this.consecutiveFailures,
      uptimePercent: this.checks === 0 ? null : Math.round((this.passes / this.checks) * 1000) / 10,
      checks: this.checks,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.credentials ? { credentials: this.credentials } : {}),
    };
  }

  /** The state as a change event. */
  event(name: string): BackendHealthEvent {
    return {
      backend: name,
      healthy: this.status === 'healthy',
      status: this.status,
      latencyMs: this.latencyMs,
      consecutiveFailures: this.consecutiveFailures,
      lastCheck: this.lastCheck,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
    };
  }

  private noteCredentials(ok: boolean, error: string | undefined): void {
    if (ok) this.credentials = 'accepted';
    else if (error !== undefined && CREDENTIALS_REFUSED.test(error)) this.credentials = 'refused';
  }

  private become(status: HealthStatus): boolean {
    if (this.status === status) return false;
    this.status = status;
    this.since = Date.now();
    return true;
  }
}
