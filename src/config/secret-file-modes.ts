import { readFileSync, statSync } from 'node:fs';

/** A secret written in clear in a config file (not `${ENV}`, `keyring:` or `file:`). */
const CLEAR_SECRET = /^\s*-?\s*(password|password_hash|bind_password|client_secret)\s*:\s*["']?(?!\$\{|keyring:|file:|["']|\s*$)\S/m;

/**
 * A warning when a file holding secrets can be read by group or others (README "Authentication", secrets), the way
 * wg-quick warns about a world-accessible .conf; null when its mode is tight or it cannot be read.
 */
export function exposedFileWarning(file: string, what: string): string | null {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  return `${what} ${file} holds secrets and is readable by ${mode & 0o070 ? (mode & 0o007 ? 'group and others' : 'group') : 'others'} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run "chmod 600 ${file}"`;
}

/** Inline blocks of an OpenVPN profile that hold a private key or credentials. */
const OVPN_SECRET_BLOCK = /^\s*<(key|secret|tls-auth|tls-crypt|tls-crypt-v2|auth-user-pass|pkcs12)>/m;

/** Whether an OpenVPN profile holds secrets inline (a profile that only names its files does not). */
export function ovpnHoldsSecrets(file: string): boolean {
  try {
    return OVPN_SECRET_BLOCK.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether a config text writes a password, hash or client secret in clear. */
export function holdsClearSecrets(text: string): boolean {
  return CLEAR_SECRET.test(text);
}
