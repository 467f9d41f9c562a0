import { ConfigError, type ProxyError } from '../errors.js';

/** What a command prints on stderr for an expected failure: one line, or a config's problems one per line (no stack trace). */
export function errorText(error: ProxyError): string[] {
  if (error instanceof ConfigError && error.problems.length > 0) {
    return [`Error: config is invalid (${error.problems.length} problem${error.problems.length > 1 ? 's' : ''}):`, ...error.problems.map((problem) => `  ${problem}`)];
  }
  return [`Error: ${error.message}`];
}
