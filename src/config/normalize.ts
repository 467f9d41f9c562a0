import type { RuntimeSections } from './sections.js';
import type { Role } from '../role.js';
import { resolve } from 'node:path';
import type { BackendSpec, ConfigSnapshot, Credentials, DebugSpec, ListenerSpec, ManagementSpec, MitmSpec, NetworkSpec, RuleSetSpec, RuleSpec } from './model.js';
import type { MatchSpec } from './match-schema.js';
import { debugSchema, type ClientConfig, type ServerConfig } from './schema.js';
import { mitmSchema, type MitmConfig } from './mitm-schema.js';
import { parseDuration, parseHostPort } from './value-parsers.js';

const ms = (text: string): number => parseDuration(text)!;

function network(config: ServerConfig['network']): NetworkSpec {
  return {
    ipv6: { enabled: config.ipv6.enabled, preferIpv6: config.ipv6.prefer_ipv6 },
    timeouts: { connectMs: ms(config.timeouts.connect), readMs: ms(config.timeouts.read), writeMs: ms(config.timeouts.write), idleMs: ms(config.timeouts.idle) },
    keepalive: { enabled: config.keepalive.enabled, intervalMs: ms(config.keepalive.interval), maxIdleConns: config.keepalive.max_idle_conns, maxIdleTimeMs: ms(config.keepalive.max_idle_time) },
    limits: {
      maxConnections: config.limits.max_connections,
      maxConnectionsPerIp: config.limits.max_connections_per_ip,
      maxConnectionsPerBackend: config.limits.max_connections_per_backend,
    },
    maxHeaderSize: config.max_header_size,
    forwardedFor: config.forwarded_for,
  };
}

function credentials(username: string | undefined, password: string | undefined): Credentials | undefined {
  return username ? { username, password: password ?? '' } : undefined;
}

/** Files named in the config resolve against its directory, like the tunnel and log files, not the daemon's working directory. */
function listeners(section: { http_port: number; socks5_port: number; bind_address: string }, baseDir: string, tls?: { cert_file: string; key_file: string }): ListenerSpec[] {
  return [
    { kind: 'http', host: section.bind_address, port: section.http_port, ...(tls ? { tls: { certFile: resolve(baseDir, tls.cert_file), keyFile: resolve(baseDir, tls.key_file) } } : {}) },
    { kind: 'socks5', host: section.bind_address, port: section.socks5_port },
  ];
}

/** The parts of a snapshot both dialects fill the same way. */
type Common = Pick<ConfigSnapshot, 'network' | 'shutdown' | 'reload' | 'metrics' | 'debug' | 'ruleSets' | 'management'>;

/** The match keys of a rule as the model keeps them: `match` only when keys beyond `domains` are used. */
function ruleMatch(rule: { match: MatchSpec; resolve?: boolean; sniff?: boolean }): Pick<RuleSpec, 'domains' | 'match' | 'resolve' | 'sniff'> {
  const domainsOnly = Object.keys(rule.match).every((key) => key === 'domains');
  return { domains: rule.match.domains ?? [], ...(domainsOnly ? {} : { match: rule.match }), ...(rule.resolve ? { resolve: true } : {}), ...(rule.sniff ? { sniff: true } : {}) };
}

function ruleSets(sets: ServerConfig['rule_sets'], baseDir: string): RuleSetSpec[] {
  return (sets ?? []).map((r) => ({
    name: r.name,
    format: r.format,
    intervalMs: ms(r.interval),
    ...(r.path !== undefined ? { path: resolve(baseDir, r.path) } : { url: r.url }),
    ...(r.ca_file !== undefined ? { caFile: resolve(baseDir, r.ca_file) } : {}),
  }));
}

/** The `debug:` section as the model (defaults when absent); relative files resolve against baseDir. */
export function debugSpec(section: ServerConfig['debug'], baseDir: string): DebugSpec {
  const d = section ?? debugSchema.parse({});
  return {
    enabled: d.enabled,
    logRequests: d.log_requests,
    logResponses: d.log_responses,
    logHeaders: d.log_headers,
    bodyBytes: d.log_body ? d.max_body_log_size : 0,
    output: d.output,
    logFile: resolve(baseDir, d.log_file),
    maskHeaders: d.mask_headers.map((h) => h.toLowerCase()),
    unmask: d.unmask.map((h) => h.toLowerCase()),
    history: d.history,
    filter: { domains: d.filter.domains, methods: d.filter.methods.map((m) => m.toUpperCase()), statusCodes: d.filter.status_codes },
    mitm: mitmSpec(d.mitm, baseDir),
  };
}

/** The `debug.mitm:` section as the model (off when absent). */
function mitmSpec(section: MitmConfig | undefined, baseDir: string): MitmSpec {
  const m = section ?? mitmSchema.parse({});
  return {
    enabled: m.enabled,
    configured: section !== undefined,
    hosts: m.hosts,
    ignoreHosts: m.ignore_hosts,
    passthroughAfterFailures: m.passthrough_after_failures,
    ...(m.upstream_ca_file !== undefined ? { upstreamCaFile: resolve(baseDir, m.upstream_ca_file) } : {}),
    certCacheSize: m.cert_cache_size,
  };
}

/** The management listener and audit settings; relative files resolve against baseDir. */
function management(config: ServerConfig | ClientConfig, section: { bind_address: string; web_ui_port?: number }, baseDir: string): ManagementSpec {
  const m = config.management;
  return {
    port: section.web_ui_port ?? null,
    host: section.bind_address,
    ...(m.tls ? { tls: { certFile: resolve(baseDir, m.tls.cert_file), keyFile: resolve(baseDir, m.tls.key_file) } } : {}),
    hostNames: m.host_names.map((n) => n.toLowerCase()),
    allowedOrigins: m.allowed_origins.map((o) => new URL(o).origin),
    auditLog: m.audit_log === undefined ? null : resolve(baseDir, m.audit_log),
  };
}

function common(config: ServerConfig | ClientConfig, section: { bind_address: string; web_ui_port?: number }, baseDir: string): Common {
  const bindAddress = section.bind_address;
  const metrics = config.metrics?.enabled ? { endpoint: config.metrics.endpoint, host: bindAddress, ...(config.metrics.port !== undefined ? { port: config.metrics.port } : {}) } : null;
  return {
    metrics,
    debug: debugSpec(config.debug, baseDir),
    ruleSets: ruleSets(config.rule_sets, baseDir),
    network: network(config.network),
    shutdown: { acceptGraceMs: ms(config.shutdown.accept_grace), drainTimeoutMs: ms(config.shutdown.drain_timeout), forceTimeoutMs: ms(config.shutdown.force_timeout) },
    reload: { drainTimeoutMs: ms(config.reload.drain_timeout) },
    management: management(config, section, baseDir),
  };
}

/** The server dialect as the engine's model (before tunnel-file checks). */
export function normalizeServer(config: ServerConfig, baseDir: string): Omit<ConfigSnapshot, 'source' | 'version' | 'loadedAt' | 'warnings' | 'raw' | keyof RuntimeSections> {
  const backends: BackendSpec[] = config.backends.map((b) => {
    const base = { name: b.name, ...(b.health_check ? { healthCheck: b.health_check as Record<string, unknown> } : {}) };
    switch (b.type) {
      case 'direct':
        return { ...base, type: 'direct' };
      case 'http':
      case 'socks5': {
        const address = parseHostPort(b.proxy!.address)!;
        return { ...base, type: b.type, host: address.host, port: address.port, auth: credentials(b.proxy!.username, b.proxy!.password) };
      }
      case 'wireguard':
        return { ...base, type: 'wireguard', configFile: b.wireguard!.config_file };
      case 'openvpn':
        return { ...base, type: 'openvpn', configFile: b.openvpn!.config_file, authFile: b.openvpn!.auth_file, auth: credentials(b.openvpn!.username, b.openvpn!.password) };
    }
  });
  const rules: RuleSpec[] = config.rules.map((r) => ({
    name: r.name,
    ...ruleMatch(r),
    ...(r.action === 'reject' ? { reject: true } : {}),
    backends: r.backend !== undefined ? [{ name: r.backend, weight: 1 }] : (r.backends ?? []).map((m) => ({ name: m.name, weight: m.weight })),
    ...(r.load_balancing ? { loadBalancing: { algorithm: r.load_balancing.algorithm, stickySessions: r.load_balancing.sticky_sessions } } : {}),
    ...(r.udp === 'skip' ? { udpSkip: true as const } : {}),
  }));
  return { role: 'server', listeners: listeners(config.server, baseDir, config.server.tls), backends, rules, logLevel: config.server.log_level, workers: config.server.workers, sniff: config.server.sniff, ...common(config, config.server, baseDir) };
}

/** The client dialect: `server:` becomes a backend named "server", `action` a backend reference. */
export function normalizeClient(config: ClientConfig, baseDir: string): Omit<ConfigSnapshot, 'source' | 'version' | 'loadedAt' | 'warnings' | 'raw' | keyof RuntimeSections> {
  const backends: BackendSpec[] = [{ name: 'direct', type: 'direct' }];
  if (config.server) {
    const address = parseHostPort(config.server.address)!;
    const auth = config.server.auth?.enabled ? credentials(config.server.auth.username, config.server.auth.password) : undefined;
    backends.push({
      name: 'server',
      type: 'server',
      protocol: config.server.protocol,
      host: address.host,
      port: address.port,
      auth,
      ...(config.server.tls ? { tls: { caFile: config.server.tls.ca_file && resolve(baseDir, config.server.tls.ca_file), servername: config.server.tls.servername } } : {}),
    });
  }
  const rules: RuleSpec[] = config.rules.map((r) => ({ name: r.name, ...ruleMatch(r), ...(r.action === 'reject' ? { reject: true, backends: [] } : { backends: [{ name: r.action, weight: 1 }] }) }));
  return { role: 'client' as Role, listeners: listeners(config.client, baseDir), backends, rules, logLevel: config.client.log_level, workers: config.client.workers, sniff: config.client.sniff, ...common(config, config.client, baseDir) };
}
