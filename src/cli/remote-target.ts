import { readFileSync } from 'node:fs';
import { KEYRING_SERVICE, keyring } from '../auth/keyring.js';
import type { ControlTarget } from '../control/control-client.js';
import { ProxyError } from '../errors.js';

/** The keyring account an API key for a daemon is stored under (`secret set api-key:https://host:port`). */
export function keyringAccount(url: URL): string {
  return `api-key:${url.origin}`;
}

/**
 * Where the CLI sends its calls when told to drive a remote daemon: the URL, the API key (given,
 * or from the keyring) and the CA file to verify its certificate with. Null without a URL.
 */
export async function remoteTarget(remote: string | undefined, apiKey: string | undefined, caFile: string | undefined): Promise<ControlTarget | null> {
  if (remote === undefined || remote === '') return null;
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    throw new ProxyError('BAD_REQUEST', `--remote "${remote}" is not a URL; expected https://HOST:PORT`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ProxyError('BAD_REQUEST', `--remote "${remote}": expected an https:// (or, on loopback, http://) URL`);
  const key = apiKey ?? (await keyring.getPassword(KEYRING_SERVICE, keyringAccount(url)).catch(() => null));
  if (!key) throw new ProxyError('NO_API_KEY', `no API key for ${url.origin}: pass --api-key, set SIMPLE_PROXY_API_KEY, or store it with "secret set ${keyringAccount(url)}"`);
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (error) {
      throw new ProxyError('BAD_REQUEST', `--ca-file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return { kind: 'remote', url, apiKey: key, ...(ca ? { ca } : {}) };
}
