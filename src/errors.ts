import type { DialFailure } from './protocol/refusal.js';

/**
 * The CLI's exit code for each error code that has its own (README "Exit codes"); any other is 1.
 * Keyed by code, not by class, so an error the daemon answered over the control socket exits the
 * same as one raised in the command itself.
 */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  BAD_REQUEST: 2,
  BACKEND_FILES: 2,
  WRONG_ROLE: 2,
  CONFIG_REMOTE: 2,
  CONFIG_INVALID: 3,
  CONFIG_UNREACHABLE: 3,
  OPEN_RELAY: 3,
  INSECURE_MANAGEMENT: 3,
  ALREADY_RUNNING: 4,
  LISTEN_FAILED: 5,
  BACKEND_TEST_FAILED: 6,
  TUNNEL_LEAK: 6,
  NO_DAEMON: 7,
  REMOTE_UNREACHABLE: 7,
  TLS_UNVERIFIED: 7,
  KEYRING_UNAVAILABLE: 8,
  UNAUTHORIZED: 9,
  FORBIDDEN: 9,
  NO_API_KEY: 9,
};

/** Base class of every error the product reports to a person: a stable code and a one-line message. */
export class ProxyError extends Error {
  /** Stable machine-readable code (for `--json` output and exit-code mapping). */
  readonly code: string;
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT_CODES[code] ?? 1;
  }
}

/** A configuration file or value is invalid. */
export class ConfigError extends ProxyError {
  /** Every problem found, each already formatted as `file:line:col: path: message`. */
  readonly problems: string[];

  constructor(message: string, problems: string[] = [message]) {
    super('CONFIG_INVALID', message);
    this.problems = problems;
  }
}

/** A backend could not open a connection to the target. */
export class DialError extends ProxyError {
  /** Why: `timeout`, `refused`, `unreachable`, `dns`, `upstream` (the upstream proxy refused), `private-target` (refused before dialling), `protocol` (the origin's answer is not valid HTTP), `tls-certificate` (the origin's certificate failed verification), `unavailable` or `failed`. */
  readonly reason: DialFailure;

  constructor(reason: DialFailure, message: string, cause?: unknown) {
    super(`DIAL_${reason.toUpperCase()}`, message, { cause });
    this.reason = reason;
  }
}

/** Reasons a dial fails; each is a refusal code of its own (protocol/refusal.ts says how each protocol answers it). */
export type { DialFailure };
