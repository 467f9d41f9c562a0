import { DialError, type DialFailure } from '../errors.js';

const CODE_REASONS: Record<string, DialFailure> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'failed',
  ETIMEDOUT: 'timeout',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NODATA: 'dns',
  EAI_NONAME: 'dns',
  EHOSTUNREACH: 'host-unreachable',
  ENETUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  EMFILE: 'no-descriptors',
  ENFILE: 'no-descriptors',
};

const DETAILS: Partial<Record<DialFailure, string>> = {
  refused: 'connection refused',
  timeout: 'connect timed out',
  dns: 'name not resolved',
  'host-unreachable': 'host unreachable',
  unreachable: 'network unreachable',
  'no-descriptors': 'the proxy is out of file descriptors',
};

/** Turns a socket or DNS error into a DialError naming the target and a short reason. */
export function toDialError(error: unknown, what: string): DialError {
  if (error instanceof DialError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const reason = CODE_REASONS[code] ?? 'failed';
  const detail = DETAILS[reason] ?? (code || (error as Error)?.message || 'failed');
  return new DialError(reason, `${what}: ${detail}`, error);
}

/** A DialError for a connect that took longer than the configured timeout. */
export function dialTimeout(what: string, timeoutMs: number): DialError {
  return new DialError('timeout', `${what}: connect timed out after ${timeoutMs} ms`);
}
