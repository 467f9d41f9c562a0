import { UpstreamAnswer } from '../backends/http-connect.js';
import type { BackendType } from '../config/model.js';
import { DialError } from '../errors.js';

/**
 * Whether a failed dial is the backend's fault (it could not be reached, did not answer in time,
 * broke the handshake or cannot work at all) rather than the target's (refused, unknown name,
 * unreachable behind a working upstream). Only those count as passive failures and are retried
 * on another member: a dead target must not take healthy backends down with it.
 */
export function backendFault(error: unknown, type: BackendType): boolean {
  if (!(error instanceof DialError)) return type !== 'direct' && (error as { code?: string } | null)?.code === 'UND_ERR_CONNECT_TIMEOUT';
  switch (error.reason) {
    case 'upstream':
      return !(error.cause instanceof UpstreamAnswer);
    case 'upstream-auth':
    case 'unavailable':
      return true;
    case 'timeout':
      // From here a direct connect that times out says more about the target than about the host.
      return type !== 'direct';
    case 'unreachable':
      return type === 'direct';
    default:
      return false;
  }
}

/** How a refusal of upstream credentials reads: every `upstream-auth` DialError says "authentication" (http-connect, socks5-backend, socks5-greeting). */
export const CREDENTIALS_REFUSED = /authentication/i;
