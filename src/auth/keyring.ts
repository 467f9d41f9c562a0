import type { AsyncEntry } from '@napi-rs/keyring';
import { ProxyError } from '../errors.js';

/** The keyring service name the secrets of this product are stored under. */
export const KEYRING_SERVICE = 'simple-proxy';

const TIMEOUT_MS = 5000;

/** What to do where no keyring exists: said by every keyring error. */
export const KEYRING_ALTERNATIVES =
  'where no keyring exists (headless servers, CI), put the secret in an environment variable and write "${NAME}" in the config, or in a file only the daemon\'s user can read (chmod 0600) and write "file:/path/to/secret"';

/** The OS keyring cannot be used (no Secret Service, locked, timed out). */
export class KeyringUnavailableError extends ProxyError {
  constructor(why: string) {
    super('KEYRING_UNAVAILABLE', `the OS keyring is not available: ${why}; ${KEYRING_ALTERNATIVES}`);
  }
}

async function call<T>(what: (entry: AsyncEntry, signal: AbortSignal) => Promise<T>, service: string, account: string): Promise<T> {
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  try {
    // Loaded on first use: a native addon the daemon and most commands never need.
    const { AsyncEntry } = await import('@napi-rs/keyring');
    // Pinned to the Secret Service on Linux: the kernel keyring fallback forgets everything at reboot.
    const entry = new AsyncEntry(service, account, { linux: { store: 'secret-service' } });
    return await what(entry, signal);
  } catch (error) {
    if (signal.aborted) throw new KeyringUnavailableError(`no answer within ${TIMEOUT_MS} ms`);
    throw new KeyringUnavailableError((error as Error).message.split('\n')[0]);
  }
}

/**
 * A keytar-shaped adapter (`getPassword`, `setPassword`, `deletePassword`) over the maintained
 * `@napi-rs/keyring` binding: keytar itself is archived and cannot be installed here. Every call
 * is bounded by a timeout and fails with a message that names the alternatives.
 */
export const keyring = {
  /** The stored secret, or null when there is none. */
  getPassword(service: string, account: string): Promise<string | null> {
    return call((entry, signal) => entry.getPassword(signal), service, account);
  },
  /** Stores (or replaces) a secret. */
  setPassword(service: string, account: string, password: string): Promise<void> {
    return call((entry, signal) => entry.setPassword(password, signal), service, account);
  },
  /** Deletes a secret; false when there was none. */
  deletePassword(service: string, account: string): Promise<boolean> {
    return call((entry, signal) => entry.deletePassword(signal), service, account);
  },
};
