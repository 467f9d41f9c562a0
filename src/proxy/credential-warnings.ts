import type { BackendSpec } from '../config/model.js';

const EVERY_MS = 60_000;

/**
 * Tells the log when an upstream (the client's server, an http or socks5 backend) refuses the
 * credentials this proxy sends: end clients only see a 502 or a SOCKS5 failure, and every request
 * through that backend fails until its config is fixed. At most once a minute per backend, so a
 * busy proxy does not fill the log; the user name is said, never the password.
 */
export class CredentialWarnings {
  private readonly last = new Map<string, number>();

  constructor(private readonly warn: (message: string) => void) {}

  /** Reports that `backend` was refused by its upstream (`message`: the dial error, which holds no secret). */
  refused(name: string, backend: BackendSpec | undefined, message: string, now = Date.now()): void {
    if (now - (this.last.get(name) ?? -Infinity) < EVERY_MS) return;
    this.last.set(name, now);
    const credentials = backend && 'auth' in backend ? backend.auth : undefined;
    const where = backend?.type === 'server' ? 'server.auth in the client config' : `backend "${name}" in the config`;
    this.warn(
      credentials
        ? `the upstream of backend "${name}" refused this proxy's credentials (user "${credentials.username}"): ${message}; check the username and password of ${where}`
        : `the upstream of backend "${name}" wants credentials this proxy does not send: ${message}; add a username and password to ${where}`,
    );
  }
}
