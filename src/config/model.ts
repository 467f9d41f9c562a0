import type { Role } from '../role.js';
import type { MatchSpec } from './match-schema.js';
import type { RuntimeSections } from './sections.js';
import type { ConfigSourceSpec } from './source-schema.js';

/**
 * The normalised, immutable view of a configuration that the engine runs on.
 * Both YAML dialects (server and client) become this one shape, every section normalised once
 * per load; the validated document stays available to show and compare, never to read a
 * setting from at use time.
 */
export interface ConfigSnapshot extends RuntimeSections {
  role: Role;
  /** Where it came from: a file path, or null for the embedded default. */
  source: string | null;
  /** Short content hash: changes whenever the effective config changes. */
  version: string;
  /** When it was loaded (ms since epoch). */
  loadedAt: number;
  /** `config.source`: the config comes from this URL (the file at `source` holds only that). */
  configSource?: ConfigSourceSpec;
  listeners: ListenerSpec[];
  network: NetworkSpec;
  backends: BackendSpec[];
  rules: RuleSpec[];
  /** `rule_sets:`: named lists rules match with `match.rule_set`. */
  ruleSets: RuleSetSpec[];
  /** Where fetched rule sets are kept for the next start (set by the daemon: its state directory), if anywhere. */
  ruleSetCacheDir?: string;
  shutdown: { acceptGraceMs: number; drainTimeoutMs: number; forceTimeoutMs: number };
  reload: { drainTimeoutMs: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Engine worker processes (0 = one per core). */
  workers: number;
  /** Route CONNECT and SOCKS5 targets given as IP addresses by the name sniffed from the client's first bytes. */
  sniff?: boolean;
  /** `metrics:` (Prometheus exposition and health endpoints), or null when off. */
  metrics: MetricsSpec | null;
  /** `debug:` (the traffic debugger). */
  debug: DebugSpec;
  /** The management listener (`web_ui_port`, `management:`) and the audit trail. */
  management: ManagementSpec;
  /** Load-time warnings (unknown-yet features, shadowed rules, unavailable tunnel files). */
  warnings: string[];
  /** The validated document as the schema produced it (keys as in the file), for `config show` and reload diffs. */
  raw: Record<string, unknown>;
}

/** One listening socket. */
export interface ListenerSpec {
  kind: 'http' | 'socks5';
  host: string;
  port: number;
  /** Serve the HTTP proxy listener over TLS (server role only). */
  tls?: { certFile: string; keyFile: string };
}

/** `network:` settings, in milliseconds where they are durations. */
export interface NetworkSpec {
  ipv6: { enabled: boolean; preferIpv6: boolean };
  timeouts: { connectMs: number; readMs: number; writeMs: number; idleMs: number };
  keepalive: { enabled: boolean; intervalMs: number; maxIdleConns: number; maxIdleTimeMs: number };
  limits: { maxConnections: number; maxConnectionsPerIp: number; maxConnectionsPerBackend: number };
  /** `max_header_size`: the largest request or response head, in bytes. */
  maxHeaderSize: number;
  /** `forwarded_for`: what X-Forwarded-For and Forwarded become on the way out. */
  forwardedFor: ForwardedFor;
}

/** `network.forwarded_for`: pass the client's headers as they are (off), add the client to them (append), replace them with the client (replace), or remove them (delete). */
export type ForwardedFor = 'off' | 'append' | 'replace' | 'delete';

/** Credentials for an upstream hop. */
export interface Credentials {
  username: string;
  password: string;
}

/** Fields every backend has. */
interface BackendBase {
  name: string;
  /** Why this backend cannot carry traffic (for example a missing tunnel file), if it cannot. */
  unavailable?: string;
  /** The backend's `health_check:` section as written, for the health-check feature. */
  healthCheck?: Record<string, unknown>;
}

/** A backend: where a rule sends connections. */
export type BackendSpec =
  | (BackendBase & { type: 'direct' })
  | (BackendBase & { type: 'http' | 'socks5'; host: string; port: number; auth?: Credentials })
  | (BackendBase & {
      /** The client role's hop to the server. */
      type: 'server';
      protocol: 'http' | 'https' | 'socks5';
      host: string;
      port: number;
      auth?: Credentials;
      /** For `https`: CA file to verify the server with, and the name to verify (default: host). */
      tls?: { caFile?: string; servername?: string };
    })
  | (BackendBase & TunnelFields & { type: 'wireguard' })
  | (BackendBase &
      TunnelFields & {
        type: 'openvpn';
        authFile?: string;
        auth?: Credentials;
      });

/** Fields of the tunnel backends (WireGuard, OpenVPN). */
interface TunnelFields {
  /** The tunnel file (absolute once loaded). */
  configFile: string;
  /** Hash of the tunnel file and auth file contents: a reload restarts the tunnel when they change. */
  fileHash?: string;
  /** Set by the daemon that runs the tunnel: its namespace and the status file engine processes read. */
  tunnel?: { netns: string; statusFile: string };
}

/** A backend type name. */
export type BackendType = BackendSpec['type'];

/** One routing rule; rules are kept in file order and first match wins. */
export interface RuleSpec {
  name: string;
  /** Domain patterns as written: exact, `*.suffix` or `*` (empty when the rule matches by other keys only). */
  domains: string[];
  /** The whole `match:` when it uses keys beyond `domains`; absent, the rule matches by its domains alone. */
  match?: MatchSpec;
  /** Match IP blocks against the addresses a name resolves to. */
  resolve?: boolean;
  /** Route an IP-literal tunnel target this rule matches again by the name sniffed from its first bytes. */
  sniff?: boolean;
  /** `action: reject`: refuse what matches (backends is empty). */
  reject?: boolean;
  /** Backends this rule sends to (one, or several for load balancing), by name. */
  backends: { name: string; weight: number }[];
  loadBalancing?: { algorithm: 'round_robin' | 'least_conn' | 'random' | 'ip_hash'; stickySessions: boolean };
  /** `udp: skip`: UDP datagrams skip this rule when its backend cannot carry UDP (default: they are refused). */
  udpSkip?: true;
}

/** A named rule set: where it comes from and how its lines read. */
export interface RuleSetSpec {
  name: string;
  format: 'domains' | 'hosts' | 'adblock' | 'cidr';
  /** A local file (absolute once loaded), or an https URL fetched every intervalMs. */
  path?: string;
  url?: string;
  intervalMs: number;
  /** CA file (absolute) the URL's server is verified with, beside the system CAs. */
  caFile?: string;
}

/** `metrics:`: where the Prometheus text and the health endpoints are served. */
export interface MetricsSpec {
  endpoint: string;
  /** Own listener port; without one, metrics are served on the control socket only. */
  port?: number;
  /** Address the metrics listener binds (the proxy's bind address). */
  host: string;
}

/** `management:` with `web_ui_port`: the control API over TCP, and where changes are audited. */
export interface ManagementSpec {
  /** The listener's port (0: any free one), or null when web_ui_port is not set. */
  port: number | null;
  /** Address it binds (the role's bind_address). */
  host: string;
  tls?: { certFile: string; keyFile: string };
  /** Host header names accepted besides localhost and the bound address. */
  hostNames: string[];
  /** Origins a browser may call from (none by default). */
  allowedOrigins: string[];
  /** Absolute path of the audit log, or null for the default in the state dir. */
  auditLog: string | null;
}

/** `debug:`: what the traffic debugger records, where it writes, and what it leaves out. */
export interface DebugSpec {
  enabled: boolean;
  logRequests: boolean;
  logResponses: boolean;
  logHeaders: boolean;
  /** Bytes of plain-HTTP bodies to keep per direction (0 when log_body is off). */
  bodyBytes: number;
  output: 'file' | 'stdout' | 'both';
  /** Absolute path of the debug log file. */
  logFile: string;
  /** Header names masked on top of the built-in ones (maskedNames). */
  maskHeaders: string[];
  /** Built-in masked names shown in clear, honoured only with an empty maskHeaders. */
  unmask?: string[];
  history: number;
  filter: { domains: string[]; methods: string[]; statusCodes: number[] };
  /** `debug.mitm:` HTTPS interception. */
  mitm: MitmSpec;
}

/** `debug.mitm:`: which CONNECT and SOCKS5 tunnels are opened up for the debugger. */
export interface MitmSpec {
  /** Intercepting now (the file's `enabled`, or `debug mitm on|off` since). */
  enabled: boolean;
  /** The config file has a `debug.mitm` section: the server role intercepts only then. */
  configured: boolean;
  hosts: string[];
  ignoreHosts: string[];
  passthroughAfterFailures: number;
  /** Absolute path of extra origin CAs (PEM), trusted on top of the system store. */
  upstreamCaFile?: string;
  certCacheSize: number;
}
