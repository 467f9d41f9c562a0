import { z } from 'zod';
import { matchSchema, ruleSetSchema } from './match-schema.js';
import { bindAddress, cidr, duration, hostPort, listenPort, nonEmpty, portOrRange } from './values.js';
import { mitmSchema } from './mitm-schema.js';
import { socks5Schema } from './socks5-schema.js';
import { managementSchema } from './management-schema.js';
import { configSectionSchema } from './source-schema.js';
import { networkSchema as network } from './network-schema.js';
import { shutdownSchema } from './shutdown-schema.js';

/*
 * The configuration schema of both dialects (the server and client files, README "Use it", with
 * the keys of health checks, metrics, reload and authentication). Every object is strict: an
 * unknown key is an error, never ignored.
 */

export { CONNECTION_LIMIT_DEFAULTS } from './network-schema.js';

const logLevel = z.enum(['debug', 'info', 'warn', 'error']);

const bucket = z.strictObject({ requests_per_second: z.number().positive(), burst: z.number().int().min(1) });

/** `rate_limiting:`: token buckets and bandwidth throttling. */
export const rateLimitingSchema = z.strictObject({
  enabled: z.boolean().default(false),
  global: bucket.optional(),
  per_ip: bucket.optional(),
  per_user: bucket.optional(),
  bandwidth: z
    .strictObject({
      enabled: z.boolean().default(false),
      max_mbps_per_connection: z.number().min(0).default(0),
      max_mbps_per_ip: z.number().min(0).default(0),
      max_mbps_total: z.number().min(0).default(0),
    })
    .optional(),
});

/** Squid's Safe_ports: what plain requests, WebSocket upgrades and SOCKS5 may reach by default. */
export const SAFE_PORTS_DEFAULT = [80, 21, 443, 70, 210, '1025-65535', 280, 488, 591, 777];

/** `access_control:` plus the open-relay guard's keys. */
export const accessControlSchema = z.strictObject({
  whitelist: z.array(cidr).default([]),
  blacklist: z.array(cidr).default([]),
  /** Serve unauthenticated clients from any address on a non-loopback listener (an open proxy). */
  allow_open_relay: z.boolean().default(false),
  /** Clients the port lists and the private-target refusal do not apply to; absent: the role's default (`trustedClientsDefault`). */
  trusted_clients: z.array(cidr).optional(),
  /** Ports a CONNECT may reach (Squid's SSL_ports). */
  connect_ports: z.array(portOrRange).default([443]),
  /** Ports plain requests, upgrades and SOCKS5 may reach (Squid's Safe_ports). */
  safe_ports: z.array(portOrRange).default(SAFE_PORTS_DEFAULT),
  /** Let untrusted clients reach loopback and link-local (cloud metadata) targets. */
  allow_private_targets: z.boolean().default(false),
});

/** Where limits that must hold across processes and machines are kept. */
export const stateSchema = z
  .strictObject({
    store: z.enum(['memory', 'redis']).default('memory'),
    redis: z
      .strictObject({ url: z.string().regex(/^rediss?:\/\/.+/, 'expected a redis:// or rediss:// URL'), key_prefix: nonEmpty.default('simple-proxy') })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.store === 'redis' && s.redis === undefined) ctx.addIssue({ code: 'custom', path: ['redis'], message: 'store "redis" needs a "redis:" section with the server url' });
  });

const accessLogField = z.enum(['timestamp', 'client_ip', 'username', 'method', 'host', 'path', 'status', 'bytes_sent', 'bytes_received', 'duration', 'backend', 'user_agent', 'rule', 'referer']);

/** `access_log:`. */
export const accessLogSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    format: z.enum(['json', 'apache_combined', 'apache_common']).default('json'),
    output: z.enum(['file', 'stdout', 'both']).default('stdout'),
    file: z.string().optional(),
    fields: z.array(accessLogField).optional(),
    mask_headers: z.array(nonEmpty).default([]),
    /** Default-masked headers to log in clear; only with `mask_headers: []`. */
    unmask: z.array(nonEmpty).default([]),
  })
  .superRefine((a, ctx) => {
    if (a.enabled && a.output !== 'stdout' && !a.file) ctx.addIssue({ code: 'custom', path: ['file'], message: `output "${a.output}" needs a "file:" path` });
  });

const healthCheck = z.strictObject({
  enabled: z.boolean().default(true),
  interval: duration.optional(),
  timeout: duration.optional(),
  type: z.enum(['tcp', 'http', 'ping']).default('tcp'),
  healthy_threshold: z.number().int().min(1).optional(),
  unhealthy_threshold: z.number().int().min(1).optional(),
  target: hostPort.optional(),
  http: z.strictObject({ url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }), expected_status: z.number().int().min(100).max(599).default(200) }).optional(),
}).superRefine((c, ctx) => {
  if (c.type === 'http' && c.http === undefined) ctx.addIssue({ code: 'custom', path: ['http'], message: 'an http check needs "http:" with the url to fetch' });
});

const proxyHop = z.strictObject({ address: hostPort, username: z.string().default(''), password: z.string().default('') });

const backend = z
  .strictObject({
    name: nonEmpty,
    type: z.enum(['direct', 'http', 'socks5', 'wireguard', 'openvpn']),
    wireguard: z.strictObject({ config_file: nonEmpty }).optional(),
    openvpn: z.strictObject({ config_file: nonEmpty, auth_file: z.string().optional(), username: z.string().optional(), password: z.string().optional() }).optional(),
    proxy: proxyHop.optional(),
    health_check: healthCheck.optional(),
  })
  .superRefine((b, ctx) => {
    const needs: Record<string, 'wireguard' | 'openvpn' | 'proxy' | null> = { direct: null, http: 'proxy', socks5: 'proxy', wireguard: 'wireguard', openvpn: 'openvpn' };
    const section = needs[b.type];
    if (section && b[section] === undefined) ctx.addIssue({ code: 'custom', path: [], message: `a backend of type "${b.type}" needs a "${section}:" section` });
    for (const other of ['wireguard', 'openvpn', 'proxy'] as const) {
      if (other !== section && b[other] !== undefined) ctx.addIssue({ code: 'custom', path: [other], message: `"${other}:" does not apply to a backend of type "${b.type}"` });
    }
    // ICMP cannot travel through a proxy: a target would be pinged from this host, around the backend.
    if (section === 'proxy' && b.health_check?.type === 'ping' && b.health_check.target !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['health_check', 'target'], message: `a ping cannot go through an upstream proxy: a ping check pings the proxy host itself; drop "target:", or use a tcp or http check to reach a target through the proxy` });
    }
  });

const match = matchSchema;

const serverRule = z
  .strictObject({
    name: nonEmpty,
    match,
    /** Match `ip_cidr` against the addresses a name resolves to (one DNS lookup before routing), not only IP literals. */
    resolve: z.boolean().optional(),
    /** An IP-literal CONNECT or SOCKS5 target this rule matches is routed again by the name its first bytes carry. */
    sniff: z.boolean().optional(),
    /** `reject`: refuse the connection (HTTP 403 naming the rule, SOCKS5 0x02) instead of sending it to a backend. */
    action: z.literal('reject', { error: 'expected "reject" (or use "backend:" / "backends:")' }).optional(),
    backend: nonEmpty.optional(),
    backends: z.array(z.strictObject({ name: nonEmpty, weight: z.number().int().min(0).default(1) })).min(1).optional(),
    load_balancing: z
      .strictObject({ algorithm: z.enum(['round_robin', 'least_conn', 'random', 'ip_hash']).default('round_robin'), sticky_sessions: z.boolean().default(false) })
      .optional(),
    /** UDP (SOCKS5 UDP ASSOCIATE) for a backend that cannot carry it: refuse the datagram, or skip to the next matching rule that can. */
    udp: z.enum(['refuse', 'skip']).optional(),
  })
  .superRefine((r, ctx) => {
    const targets = [r.backend, r.backends, r.action].filter((t) => t !== undefined).length;
    if (targets !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'a rule needs exactly one of "backend", "backends" or "action: reject"' });
    if (r.load_balancing !== undefined && r.action !== undefined) ctx.addIssue({ code: 'custom', path: ['load_balancing'], message: '"load_balancing" does not apply to a rule that rejects' });
  });

const clientRule = z.strictObject({ name: nonEmpty, match, resolve: z.boolean().optional(), sniff: z.boolean().optional(), action: z.enum(['server', 'direct', 'reject']) });

const nativeUser = z.strictObject({
  username: nonEmpty,
  // A complete hash: a truncated one (the spec's "$2a$10$...") would refuse every password without a word.
  password_hash: z.string().regex(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/, 'expected a complete bcrypt hash ("$2b$10$" and 53 more characters, as "user add" or "htpasswd -nbB" write)'),
  groups: z.array(nonEmpty).default([]),
});

const aclEntry = z.strictObject({ group: nonEmpty, backends: z.array(nonEmpty) });

/** `server.auth:` (README "Authentication"): how clients authenticate, and which backends each group may use. */
export const authSchema = z.strictObject({
  mode: z.enum(['none', 'native', 'system', 'ldap', 'oauth']).default('none'),
  /** Realm named in `Proxy-Authenticate`. */
  realm: nonEmpty.default('simple-proxy'),
  /** Group-to-backend ACL for every mode (`native.acl` is read too). */
  acl: z.array(aclEntry).default([]),
  /** How long a verdict is remembered, so the password check does not run per request. */
  cache: z.strictObject({ ttl: duration.default('60s'), negative_ttl: duration.default('5s'), max_entries: z.number().int().min(1).default(10_000) }).prefault({}),
  /** Failed attempts one client IP may make in `window` before its attempts are refused unchecked. */
  failed_attempts: z.strictObject({ max: z.number().int().min(1).default(10), window: duration.default('60s') }).prefault({}),
  native: z
    .strictObject({
      users: z.array(nativeUser).default([]),
      acl: z.array(aclEntry).default([]),
    })
    .optional(),
  system: z.strictObject({ allowed_groups: z.array(nonEmpty).default([]), service: nonEmpty.default('login') }).optional(),
  ldap: z
    .strictObject({
      server: z.string().regex(/^ldaps?:\/\/.+/, 'expected an ldap:// or ldaps:// URL'),
      bind_dn: z.string().optional(),
      bind_password: z.string().optional(),
      base_dn: nonEmpty,
      user_filter: z.string().includes('%s', { error: 'must contain %s (the user name)' }).default('(uid=%s)'),
      group_filter: z.string().optional(),
      allowed_groups: z.array(nonEmpty).default([]),
      start_tls: z.boolean().default(false),
      timeout: duration.default('5s'),
      tls: z.strictObject({ skip_verify: z.boolean().default(false), ca_cert: z.string().optional() }).optional(),
    })
    .optional(),
  oauth: z
    .strictObject({
      provider: z.enum(['generic', 'google', 'azure', 'okta']).default('generic'),
      client_id: z.string().optional(),
      client_secret: z.string().optional(),
      auth_url: z.string().optional(),
      token_url: z.string().optional(),
      userinfo_url: z.url({ error: 'expected an http:// or https:// URL' }).optional(),
      jwks_url: z.url({ error: 'expected an http:// or https:// URL' }).optional(),
      scopes: z.array(z.string()).default([]),
      username_claim: z.string().default('preferred_username'),
      groups_claim: z.string().default('groups'),
      allowed_groups: z.array(nonEmpty).default([]),
      clock_skew: duration.default('30s'),
      timeout: duration.default('5s'),
      jwt: z.strictObject({ issuer: z.string().optional(), audience: z.string().optional() }).optional(),
    })
    .optional(),
});

/** `debug:`, shared by both roles. */
export const debugSchema = z.strictObject({
  enabled: z.boolean().default(false),
  log_requests: z.boolean().default(true),
  log_responses: z.boolean().default(true),
  log_headers: z.boolean().default(false),
  log_body: z.boolean().default(false),
  max_body_log_size: z.number().int().min(0).default(1024),
  output: z.enum(['file', 'stdout', 'both']).default('file'),
  log_file: z.string().default('./traffic.log'),
  /** Header names whose values never leave the process unmasked (debug log, API, HAR). */
  mask_headers: z.array(nonEmpty).default(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']),
  /** Default-masked headers to show in clear; only with `mask_headers: []`. */
  unmask: z.array(nonEmpty).default([]),
  /** Records kept in memory for the API, the dashboard and HAR export. */
  history: z.number().int().min(1).max(100_000).default(1000),
  filter: z
    .strictObject({ domains: z.array(nonEmpty).default([]), methods: z.array(nonEmpty).default([]), status_codes: z.array(z.number().int().min(100).max(599)).default([]) })
    .prefault({}),
  mitm: mitmSchema.optional(),
});

/** Sections both dialects share. */
const common = {
  network: network.prefault({}),
  rule_sets: z.array(ruleSetSchema).optional(),
  rate_limiting: rateLimitingSchema.optional(),
  access_control: accessControlSchema.optional(),
  access_log: accessLogSchema.optional(),
  state: stateSchema.optional(),
  health_checks: z
    .strictObject({
      defaults: z
        .strictObject({ interval: duration.default('30s'), timeout: duration.default('5s'), healthy_threshold: z.number().int().min(1).default(2), unhealthy_threshold: z.number().int().min(1).default(3) })
        .prefault({}),
    })
    .optional(),
  metrics: z.strictObject({ enabled: z.boolean().default(false), endpoint: z.string().startsWith('/', 'expected a path starting with "/"').default('/metrics'), port: listenPort.optional() }).optional(),
  shutdown: shutdownSchema,
  reload: z.strictObject({ drain_timeout: duration.default('10s') }).prefault({}),
  debug: debugSchema.optional(),
  management: managementSchema,
  socks5: socks5Schema.optional(),
  /** `config.source`: the config comes from a URL (the file then holds only this). */
  config: configSectionSchema.optional(),
};

/** `server.proxy_protocol:` PROXY protocol v1/v2 from the load balancers listed in `trusted`, required from them when enabled. */
export const proxyProtocolSchema = z
  .strictObject({ enabled: z.boolean().default(false), trusted: z.array(cidr).default([]) })
  .superRefine((p, ctx) => {
    if (p.enabled && p.trusted.length === 0) ctx.addIssue({ code: 'custom', path: ['trusted'], message: 'PROXY protocol needs "trusted": the load balancers\' addresses (a header from anyone else is never believed)' });
  });

/** `workers`: engine processes (0 = one per core). */
const workers = z.number().int('expected a whole number').min(0, 'expected 0 (one per core) or more');

/** The server dialect (`server-config.yaml`). */
export const serverConfigSchema = z.strictObject({
  server: z
    .strictObject({
      http_port: listenPort.default(8080),
      socks5_port: listenPort.default(1080),
      bind_address: bindAddress.default('127.0.0.1'),
      /** For CONNECT and SOCKS5 targets given as IP addresses, route by the name the client's first bytes carry (TLS SNI, HTTP Host). */
      sniff: z.boolean().default(false),
      web_ui_port: listenPort.optional(),
      log_level: logLevel.default('info'),
      workers: workers.default(0),
      tls: z.strictObject({ cert_file: nonEmpty, key_file: nonEmpty }).optional(),
      proxy_protocol: proxyProtocolSchema.optional(),
      auth: authSchema.prefault({}),
    })
    .prefault({}),
  backends: z.array(backend).default([{ name: 'direct', type: 'direct' }]),
  rules: z.array(serverRule).default([{ name: 'Default', match: { domains: ['*'] }, backend: 'direct' }]),
  ...common,
});

/** The client dialect (`client-config.yaml`). */
export const clientConfigSchema = z.strictObject({
  client: z
    .strictObject({
      http_port: listenPort.default(3128),
      socks5_port: listenPort.default(1081),
      bind_address: bindAddress.default('127.0.0.1'),
      /** For CONNECT and SOCKS5 targets given as IP addresses, route by the name the client's first bytes carry (TLS SNI, HTTP Host). */
      sniff: z.boolean().default(false),
      web_ui_port: listenPort.optional(),
      log_level: logLevel.default('info'),
      workers: workers.default(1),
    })
    .prefault({}),
  tray: z
    .strictObject({ enabled: z.boolean().default(false), start_minimized: z.boolean().default(false), show_notifications: z.boolean().default(false), autostart: z.boolean().default(false) })
    .optional(),
  server: z
    .strictObject({
      address: hostPort,
      protocol: z.enum(['http', 'https', 'socks5']).default('http'),
      auth: z.strictObject({ enabled: z.boolean().default(false), username: z.string().default(''), password: z.string().default('') }).optional(),
      tls: z.strictObject({ ca_file: nonEmpty.optional(), servername: nonEmpty.optional() }).optional(),
    })
    .optional(),
  rules: z.array(clientRule).default([{ name: 'Default direct', match: { domains: ['*'] }, action: 'direct' }]),
  ...common,
});

/** A validated server config, keys as in the file. */
export type ServerConfig = z.infer<typeof serverConfigSchema>;
/** A validated client config, keys as in the file. */
export type ClientConfig = z.infer<typeof clientConfigSchema>;
