import { KeyStore, keysFile } from '../control/api-keys.js';
import { NoDaemonError, type ControlClient } from '../control/control-client.js';
import { parseDuration } from '../config/value-parsers.js';
import { ProxyError } from '../errors.js';

/**
 * Runs a key command through the daemon (which holds the keys in memory, so a revoke takes effect
 * at once), or on the key file of the state dir when no local daemon runs. A remote daemon is
 * never swapped for local files.
 */
export async function viaDaemonOrKeyFile<T>(client: ControlClient, remote: boolean, stateDir: string, viaDaemon: (client: ControlClient) => Promise<T>, onFile: (store: KeyStore) => T): Promise<{ answer: T; via: 'daemon' | 'file' }> {
  try {
    return { answer: await viaDaemon(client), via: 'daemon' };
  } catch (error) {
    if (remote || !(error instanceof NoDaemonError)) throw error;
  }
  return { answer: onFile(new KeyStore(keysFile(stateDir)).load()), via: 'file' };
}

/** `--expires`: a duration from now (`30d`, `12h`) or an ISO date-time; the answer is an ISO date-time. */
export function expiryOf(text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  const days = /^(\d+)d$/.exec(text);
  const span = days ? Number(days[1]) * 86_400_000 : parseDuration(text);
  const at = span !== null ? now + span : Date.parse(text);
  if (!Number.isFinite(at)) throw new ProxyError('BAD_REQUEST', `--expires "${text}" is neither a duration (30d, 12h) nor a date-time (2027-01-31T00:00:00Z)`);
  if (at <= now) throw new ProxyError('BAD_REQUEST', `--expires "${text}" is not in the future`);
  return new Date(at).toISOString();
}
