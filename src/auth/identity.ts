/** Who a client proved to be: the name the logs and limits use, and the groups ACLs match. */
export interface Identity {
  user: string;
  groups: readonly string[];
}

/**
 * Why a provider said no, for the log (never a secret). `outsideGroups`: the credentials were
 * right but the user is in none of the mode's `allowed_groups`, which is a 403 (authenticating
 * again will not help), not a 407.
 */
export interface Rejection {
  rejected: string;
  user?: string;
  outsideGroups?: boolean;
}

/** A provider's verdict on credentials: who the client is, or why not. */
export type Verdict = Identity | Rejection;

/** Whether a verdict let the client in. */
export const isIdentity = (verdict: Verdict): verdict is Identity => !('rejected' in verdict);

/** The rejection of a user who proved who they are but is in none of `allowed_groups` (`setting` names the key). */
export const outsideGroups = (user: string, setting: string): Rejection => ({ rejected: `user "${user}" is not in ${setting}`, user, outsideGroups: true });

/**
 * What a provider checks. `password` is the Basic (HTTP) or RFC 1929 (SOCKS5) pair; `bearer` a
 * token from `Proxy-Authorization: Bearer`. A provider resolves to the identity, or to a
 * rejection saying why for credentials that are wrong (or not allowed), and rejects only when it
 * cannot decide (its directory or provider is unreachable): that verdict is never cached.
 */
export type Credentials = { kind: 'password'; username: string; password: string } | { kind: 'bearer'; token: string };

/** One authentication mode's check. */
export interface AuthProvider {
  /** The `Proxy-Authenticate` schemes this provider accepts, in preference order. */
  readonly schemes: readonly ('Basic' | 'Bearer')[];
  verify(credentials: Credentials): Promise<Verdict>;
  /** Releases connections or timers (reloads and stops). */
  close?(): Promise<void>;
}
