/**
 * Loopback as trusted clients. A server trusts no client by default, so a test whose client and
 * origins are both on loopback says it trusts loopback, as a developer's own proxy would.
 */
export const TRUSTED_LOOPBACK = ['127.0.0.0/8', '::1'];

/** The same as a top-level YAML line, for a test's config text (a file with no other `access_control:`). */
export const TRUSTED_LOOPBACK_YAML = 'access_control: { trusted_clients: ["127.0.0.0/8", "::1"] }\n';
