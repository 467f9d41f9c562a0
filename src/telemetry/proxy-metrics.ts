import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LimitScope } from '../policy/limit-hit.js';
import type { ExhaustedDuring } from '../engine/engine-api.js';
import { insideTunnel, type ConnectionRecord, type UdpDropReason } from '../protocol/connection-record.js';
import type { UdpCounts } from '../engine/engine-api.js';
import { REFUSALS } from '../protocol/refusal.js';
import { RecordTally } from './record-tally.js';

/** Methods that get their own label value; anything else a client sends counts as OTHER. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'SOCKS5', 'UDP', 'PROPFIND', 'PURGE']);

/** Error words the proxy itself produces (every refusal's label, and how relays end); an unexpected one counts as `other`, so labels stay bounded. */
const KNOWN_ERRORS = new Set([
  ...Object.values(REFUSALS).map((answer) => answer.metricLabel),
  'upgrade-declined',
  'idle-timeout',
  'upstream-error',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  // How a UDP association ends besides its control connection closing.
  'udp-disabled',
  'udp-bind',
  'relay-error',
  'stopped',
]);

/** Latency buckets (seconds): sub-millisecond loopback hops up to minute-long tunnels. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Label for the backend of a record that was refused before routing. */
const NO_BACKEND = 'none';

/** A bounded label value for a request method. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}

/** A bounded label value for an error word. */
export function errorLabel(error: string): string {
  return KNOWN_ERRORS.has(error) ? error : 'other';
}

/**
 * The per-process proxy metrics (README "Watching it": connections, requests, durations, bytes), fed by
 * the engine's finished records. Each engine process keeps its own; the daemon merges them at
 * scrape time, so the hot path never crosses a process boundary for a counter.
 */
export class ProxyMetrics {
  /** Registry holding this process's metrics. */
  readonly registry = new Registry();
  /** Per-record counts waiting for the next scrape (see RecordTally). */
  private readonly tally = new RecordTally();
  /** The counters the tally is moved into. */
  private readonly connectionsTotal: Counter<'backend' | 'status'>;
  private readonly connectionErrors: Counter<'backend' | 'error'>;
  private readonly requestsTotal: Counter<'method' | 'backend'>;
  private readonly requestDuration: Histogram<'backend'>;
  /** Bytes of the records that ended; the open ones' bytes so far are added at scrape time. */
  private readonly endedBytes = { in: 0, out: 0 };
  private readonly rateLimitHits: Counter<'by'>;
  private readonly refusals: Counter<'by'>;
  private readonly udpAssociations: Counter;
  private readonly udpDrops: Counter<'reason'>;

  /**
   * @param active Open connections by backend, read at scrape time (the engine keeps them anyway).
   * @param processMetrics Also export this process's CPU, memory and event-loop metrics.
   * @param sharedState Whether rate limits are shared through Redis now (false: local fallback), or null without a shared store.
   * @param exhausted Connections refused so far for want of file descriptors, by where.
   * @param openBytes Bytes so far each way of the open requests, tunnels and associations, read at scrape time.
   * @param udp The UDP relay's counts now (open associations' datagrams and bytes so far included), read at scrape time.
   * @param fleetElsewhere Client connections the fleet's other processes hold (state.store: redis), or null outside a fleet.
   */
  constructor(
    active: () => Map<string, number>,
    processMetrics: boolean,
    sharedState: () => boolean | null,
    exhausted: () => Record<ExhaustedDuring, number>,
    udp: () => UdpCounts | null = () => null,
    openBytes: () => { in: number; out: number } = () => ({ in: 0, out: 0 }),
    fleetElsewhere: () => number | null = () => null,
  ) {
    const ended = this.endedBytes;
    const registers = [this.registry];
    // Whichever of these is read first moves the tally into all of them.
    const collect = (): void => this.tally.moveInto({ connectionsTotal: this.connectionsTotal, connectionErrors: this.connectionErrors, requestsTotal: this.requestsTotal });
    this.connectionsTotal = new Counter({ name: 'proxy_connections_total', help: 'Connections (requests and tunnels) handled, by backend and outcome', labelNames: ['backend', 'status'], registers, collect });
    this.connectionErrors = new Counter({ name: 'proxy_connections_errors_total', help: 'Connections that failed, by backend and error', labelNames: ['backend', 'error'], registers, collect });
    this.requestsTotal = new Counter({ name: 'proxy_requests_total', help: 'Requests by method (CONNECT and SOCKS5 for tunnels) and backend', labelNames: ['method', 'backend'], registers, collect });
    this.requestDuration = new Histogram({
      name: 'proxy_request_duration_seconds',
      help: 'Time from request to the end of the exchange (tunnels: their whole life), by backend',
      labelNames: ['backend'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    // Open connections count with their bytes so far: a long download moves the counter before it ends.
    new Counter({
      name: 'proxy_request_bytes_total',
      help: 'Bytes from clients (in) and to clients (out), open connections included',
      labelNames: ['direction'],
      registers,
      collect() {
        const open = openBytes();
        this.reset();
        this.inc({ direction: 'in' }, ended.in + open.in);
        this.inc({ direction: 'out' }, ended.out + open.out);
      },
    });
    this.rateLimitHits = new Counter({ name: 'proxy_rate_limit_exceeded_total', help: 'Requests refused by a limit, by scope', labelNames: ['by'], registers });
    this.refusals = new Counter({
      name: 'proxy_policy_refusals_total',
      help: 'Clients and requests refused other than by a rate limit, by scope (connections, acl, port, private-target, auth, loop)',
      labelNames: ['by'],
      registers,
    });
    new Gauge({
      name: 'proxy_connections_active',
      help: 'Open connections by backend',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        for (const [backend, count] of active()) this.set({ backend }, count);
      },
    });
    new Gauge({
      name: 'proxy_shared_state_up',
      help: 'Whether rate limits are shared through the state store (1) or each process falls back to local limits (0); only with state.store: redis',
      labelNames: ['store'],
      registers,
      // Merged over engine processes, 1 only while every one of them shares.
      aggregator: 'min',
      collect() {
        this.reset();
        const shared = sharedState();
        if (shared !== null) this.set({ store: 'redis' }, shared ? 1 : 0);
      },
    });
    new Gauge({
      name: 'proxy_fleet_connections_elsewhere',
      help: 'Client connections the other processes of the fleet hold, as this one last read them from the state store (only with state.store: redis); max_connections counts them',
      registers,
      aggregator: 'max',
      collect() {
        this.reset();
        const elsewhere = fleetElsewhere();
        if (elsewhere !== null) this.set(elsewhere);
      },
    });
    new Counter({
      name: 'proxy_fd_exhausted_total',
      help: 'Connections refused because the proxy was out of file descriptors (EMFILE, ENFILE), by where: accept (a client) or dial (its target)',
      labelNames: ['during'],
      registers,
      collect() {
        this.reset();
        for (const [during, count] of Object.entries(exhausted())) this.inc({ during }, count);
      },
    });
    this.udpAssociations = new Counter({ name: 'proxy_udp_associations_total', help: 'SOCKS5 UDP associations ended', registers });
    // Read from the relay at scrape time: open associations count as their datagrams pass, not when they end.
    const relayed = (name: string, help: string, read: (c: UdpCounts) => [number, number]): void =>
      void new Counter({
        name,
        help,
        labelNames: ['direction'],
        registers,
        collect() {
          const counts = udp();
          const [inward, outward] = counts ? read(counts) : [0, 0];
          this.reset();
          this.inc({ direction: 'in' }, inward);
          this.inc({ direction: 'out' }, outward);
        },
      });
    relayed('proxy_udp_datagrams_total', 'UDP datagrams relayed from clients (in) and back to clients (out), open associations included', (c) => [c.datagramsIn, c.datagramsOut]);
    relayed('proxy_udp_bytes_total', 'UDP payload bytes relayed from clients (in) and back to clients (out), open associations included', (c) => [c.bytesIn, c.bytesOut]);
    this.udpDrops = new Counter({
      name: 'proxy_udp_dropped_total',
      help: 'UDP datagrams dropped, by reason (truncated, fragmented, address-type, stranger, refused, pending, bandwidth)',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'proxy_udp_associations_active',
      help: 'Open SOCKS5 UDP associations',
      registers,
      collect() {
        this.set(udp()?.associationsActive ?? 0);
      },
    });
    new Gauge({
      name: 'proxy_udp_flows_active',
      help: 'UDP NAT entries (association and destination) open now',
      registers,
      collect() {
        this.set(udp()?.flowsActive ?? 0);
      },
    });
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one finished request or tunnel. */
  observe(record: ConnectionRecord): void {
    const backend = record.backend ?? NO_BACKEND;
    const failed = record.error !== undefined && record.error !== 'client-closed';
    this.tally.add(backend, methodLabel(record.method), failed ? errorLabel(record.error!) : null);
    this.requestDuration.observe({ backend }, (record.durationMs ?? 0) / 1000);
    if (!insideTunnel(record)) {
      this.endedBytes.in += record.bytesIn;
      this.endedBytes.out += record.bytesOut;
    }
    if (record.udp) this.udpAssociations.inc();
  }

  /** Counts one dropped UDP datagram. */
  udpDropped(reason: UdpDropReason): void {
    this.udpDrops.inc({ reason });
  }

  /** Counts one refusal: rate limits (global, ip, user) in the spec's counter, every other scope in its own. */
  limitHit(scope: LimitScope): void {
    if (scope === 'global' || scope === 'ip' || scope === 'user') this.rateLimitHits.inc({ by: scope });
    else this.refusals.inc({ by: scope });
  }
}
