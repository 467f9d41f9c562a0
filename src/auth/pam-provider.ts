import type { AuthSettings } from './auth-settings.js';
import { outsideGroups, type AuthProvider, type Credentials, type Verdict } from './identity.js';

/** Names PAM and `id` may be given: no option-like or odd characters reach their command lines. */
const OS_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
const TIMEOUT_MS = 15_000;

/**
 * `system` mode: OS users through PAM. Each check runs Debian's `pamtester` (no native addon to
 * build, no setuid bit) with the password on its stdin, never on its command line, through both
 * `authenticate` and `acct_mgmt`, so an expired or locked account is refused even with the right
 * password. Checking other users' passwords needs the daemon to run as root (pam_unix reads
 * /etc/shadow). Groups come from `id -Gn`.
 */
export class PamProvider implements AuthProvider {
  readonly schemes = ['Basic'] as const;
  private readonly service: string;
  private readonly allowed: Set<string>;

  constructor(settings: AuthSettings) {
    this.service = settings.system?.service ?? 'login';
    this.allowed = new Set(settings.system?.allowed_groups ?? []);
  }

  async verify(credentials: Credentials): Promise<Verdict> {
    if (credentials.kind !== 'password' || !OS_USER.test(credentials.username)) return { rejected: 'not an OS user name' };
    if (credentials.password === '' || /[\r\n\0]/.test(credentials.password)) return { rejected: 'empty password or one with a line break', user: credentials.username };
    // Loaded on first use: only the system auth mode runs programs, and execa costs every engine process memory.
    const { execa } = await import('execa');
    const pam = await execa('pamtester', [this.service, credentials.username, 'authenticate', 'acct_mgmt'], {
      input: `${credentials.password}\n`,
      reject: false,
      timeout: TIMEOUT_MS,
      env: { LC_ALL: 'C' },
      extendEnv: false,
    });
    if (pam.failed && pam.exitCode === undefined) throw new Error(pam.code === 'ENOENT' ? 'pamtester is not installed (Debian package "pamtester")' : `pamtester did not finish: ${pam.shortMessage}`);
    if (pam.exitCode !== 0) return { rejected: 'refused by PAM: unknown user, wrong password, or expired or locked account', user: credentials.username };
    const id = await execa('id', ['-Gn', '--', credentials.username], { reject: false, timeout: TIMEOUT_MS });
    const groups = id.exitCode === 0 ? String(id.stdout).trim().split(/\s+/).filter(Boolean) : [];
    if (this.allowed.size > 0 && !groups.some((g) => this.allowed.has(g))) return outsideGroups(credentials.username, 'server.auth.system.allowed_groups');
    return { user: credentials.username, groups };
  }
}
