/** Who a client proved to be: the name the logs and limits use, and the groups ACLs match. */
export interface Identity {
  user: string;
  groups: readonly string[];
}

/**
 * What a provider checks. `password` is the Basic (HTTP) or RFC 1929 (SOCKS5) pair; `bearer` a
 * token from `Proxy-Authorization: Bearer`. A provider resolves to the identity, to null for
 * credentials that are wrong (or not allowed), and rejects only when it cannot decide (its
 * directory or provider is unreachable): that verdict is never cached.
 */
export type Credentials = { kind: 'password'; username: string; password: string } | { kind: 'bearer'; token: string };

/** One authentication mode's check. */
export interface AuthProvider {
  /** The `Proxy-Authenticate` schemes this provider accepts, in preference order. */
  readonly schemes: readonly ('Basic' | 'Bearer')[];
  verify(credentials: Credentials): Promise<Identity | null>;
  /** Releases connections or timers (reloads and stops). */
  close?(): Promise<void>;
}
