import { readFileSync, statSync } from 'node:fs';
import type { BackendSpec, ConfigSnapshot } from '../config/model.js';
import { ConfigError } from '../errors.js';
import { runtimeSections } from '../config/sections.js';
import { KEYRING_SERVICE, keyring } from './keyring.js';

/** Keys whose value may be a reference to a secret kept elsewhere. */
const SECRET_KEYS = new Set(['password', 'bind_password', 'client_secret']);
const REFERENCE = /^(keyring|file):(.+)$/;

async function resolveOne(value: string, where: string): Promise<string> {
  const match = REFERENCE.exec(value);
  if (!match) return value;
  const [, kind, name] = match;
  if (kind === 'keyring') {
    let secret: string | null;
    try {
      secret = await keyring.getPassword(KEYRING_SERVICE, name);
    } catch (error) {
      throw new ConfigError(`${where}: "keyring:${name}": ${(error as Error).message}`);
    }
    if (secret === null) throw new ConfigError(`${where}: no secret "${name}" in the OS keyring; store it with "secret set ${name}"`);
    return secret;
  }
  try {
    const mode = statSync(name).mode;
    if ((mode & 0o077) !== 0) throw new ConfigError(`${where}: ${name} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    return readFileSync(name, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${where}: cannot read secret file ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function walk(value: unknown, path: string): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => walk(v, `${path}[${i}]`)));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEYS.has(key) && typeof v === 'string' ? await resolveOne(v, `${path}${path ? '.' : ''}${key}`) : await walk(v, `${path}${path ? '.' : ''}${key}`);
  return out;
}

/** Whether a snapshot has any `keyring:` or `file:` reference in a secret field. */
function hasReferences(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasReferences);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => (SECRET_KEYS.has(key) && typeof v === 'string' ? REFERENCE.test(v) : hasReferences(v)));
}

/**
 * Replaces secret references (`password: "keyring:us-proxy"` from the OS keyring,
 * `password: "file:/etc/simple-proxy/us-proxy.pass"` from a 0600 file) with the secrets, in the
 * validated document and in the backends' credentials. Done by the daemon at start and reload,
 * so a config file never has to hold the secret itself.
 */
export async function resolveSecretRefs(snapshot: ConfigSnapshot): Promise<ConfigSnapshot> {
  if (!hasReferences(snapshot.raw)) return snapshot;
  const raw = (await walk(snapshot.raw, '')) as Record<string, unknown>;
  const backends: BackendSpec[] = await Promise.all(
    snapshot.backends.map(async (b) => ('auth' in b && b.auth ? { ...b, auth: { ...b.auth, password: await resolveOne(b.auth.password, `backend "${b.name}" password`) } } : b)),
  );
  // The sections read at run time come from the resolved document (an LDAP bind password, for one).
  return { ...snapshot, ...runtimeSections(snapshot.role, raw), raw, backends };
}
