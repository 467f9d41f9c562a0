import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { EngineStats } from '../engine/engine-api.js';
import { matchesFilter, type ConnectionFilter } from '../protocol/connection-filter.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import { ByteMeters } from './byte-meters.js';
import { SlotMap, SlotSet } from './slot-collections.js';
import type { RecordStart } from './proxy-context.js';

/** Where the ledger reports a finished record and what a person should know. */
export interface LedgerEvents {
  /** A record just ended (its duration is set): metrics, policy slots and the `connection:end` event. */
  ended(record: ConnectionRecord): void;
  warn(message: string): void;
  /** A client connection was counted in or out (an engine worker reports its load). */
  clientsChanged?(): void;
}

/**
 * The engine's book of live traffic: client connections, open records, tunnels' upstream sockets,
 * cancellable plain-HTTP requests, the timers that close what a reload retired, and per-backend
 * counters.
 */
export class ConnectionLedger {
  /** Client connections open now (max_connections counts these; a stop drains them). */
  readonly clients = new SlotSet<Socket>();
  /** Records begun and not yet ended. */
  readonly open = new SlotSet<ConnectionRecord>();
  /** Clients being told they are over a connection limit. */
  readonly refusing = new Set<Socket>();
  /** Tunnels' upstream sockets, with the record of the tunnel each carries. */
  private readonly upstreams = new SlotMap<Socket, ConnectionRecord>();
  /** Aborts of plain-HTTP requests being forwarded, by record (a reload that retires their backend ends them). */
  private readonly requests = new SlotMap<ConnectionRecord, (error: Error) => void>();
  /** Bytes so far of open requests and tunnels, read from their client sockets on demand. */
  readonly meters = new ByteMeters();
  /** Pending closes of connections through backends a reload retired. */
  private readonly retiring = new Set<NodeJS.Timeout>();
  private readonly backendStats = new Map<string, { active: number; total: number; errors: number }>();
  /** Client connections accepted since start. */
  connectionsTotal = 0;
  private readonly idPrefix = randomBytes(3).toString('hex');
  private nextId = 0;

  /** The 'close' listeners of client and upstream sockets: one function each for every socket (the socket is `this`), so counting a connection allocates nothing. */
  private readonly clientClosed: (this: Socket) => void;
  private readonly upstreamClosed: (this: Socket) => void;

  constructor(private readonly events: LedgerEvents) {
    const { clients, upstreams } = this;
    this.clientClosed = function (this: Socket) {
      clients.delete(this);
      events.clientsChanged?.();
    };
    this.upstreamClosed = function (this: Socket) {
      upstreams.delete(this);
    };
  }

  /** Counts an accepted client connection until it closes. */
  addClient(socket: Socket): void {
    this.clients.add(socket);
    this.connectionsTotal++;
    // 'close' is emitted once: on() spares once()'s wrapper.
    socket.on('close', this.clientClosed);
    this.events.clientsChanged?.();
  }

  /** Records started since start (requests and tunnels): a count that moves with any traffic. */
  get begun(): number {
    return this.nextId;
  }

  /** Starts a record: id, start time, every field present from the start. */
  begin(fields: RecordStart): ConnectionRecord {
    // Every field is present from the start so records keep one hidden class (no shape migrations per connection).
    const record: ConnectionRecord = {
      id: `${this.idPrefix}${(this.nextId++).toString(36)}`,
      startedAt: Date.now(),
      protocol: fields.protocol,
      clientAddress: fields.clientAddress,
      clientPort: fields.clientPort,
      user: fields.user,
      method: fields.method,
      host: fields.host,
      port: fields.port,
      path: fields.path,
      userAgent: fields.userAgent,
      referer: fields.referer,
      rule: undefined,
      backend: undefined,
      status: undefined,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: undefined,
      error: undefined,
      udp: undefined,
      requestHeaders: undefined,
      responseHeaders: undefined,
      requestBody: undefined,
      responseBody: undefined,
      dnsMs: undefined,
      connectMs: undefined,
      tlsMs: undefined,
      waitMs: undefined,
      receiveMs: undefined,
      tls: undefined,
    };
    this.open.add(record);
    return record;
  }

  /** Ends a record once (later calls do nothing), counts it for its backend and reports it. */
  finish(record: ConnectionRecord): void {
    if (record.durationMs !== undefined) return;
    record.durationMs = Date.now() - record.startedAt;
    this.open.delete(record);
    this.requests.delete(record);
    this.meters.ended(record);
    if (record.backend) {
      let stats = this.backendStats.get(record.backend);
      if (!stats) this.backendStats.set(record.backend, (stats = { active: 0, total: 0, errors: 0 }));
      stats.total++;
      if (record.error) stats.errors++;
    }
    this.events.ended(record);
  }

  /** Keeps a tunnel's upstream socket known, so a forced stop or a retiring reload can close it. */
  track(socket: Socket, record: ConnectionRecord): void {
    this.upstreams.set(socket, record);
    socket.on('close', this.upstreamClosed);
  }

  /** Keeps a forwarded request's abort known while it is open. */
  cancellable(record: ConnectionRecord, abort: (error: Error) => void): void {
    if (record.durationMs === undefined) this.requests.set(record, abort);
  }

  /** Per-backend counters with the open connections filled in. */
  backendCounters(configured: readonly string[]): EngineStats['backends'] {
    const out: EngineStats['backends'] = {};
    for (const [name, stats] of this.backendStats) out[name] = { ...stats, active: 0 };
    for (const [name, active] of this.activeByBackend(configured)) (out[name] ??= { active: 0, total: 0, errors: 0 }).active = active;
    return out;
  }

  /** Open connections by backend; every configured backend appears, idle ones with 0, so dashboards see a series from the start. */
  activeByBackend(configured: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>(configured.map((name) => [name, 0]));
    for (const record of this.open) if (record.backend !== undefined) counts.set(record.backend, (counts.get(record.backend) ?? 0) + 1);
    return counts;
  }

  /** Open records by authenticated user. */
  openByUser(): Map<string, number> {
    const open = new Map<string, number>();
    for (const record of this.open) if (record.user !== undefined) open.set(record.user, (open.get(record.user) ?? 0) + 1);
    return open;
  }

  /**
   * Connections open through backends a reload removed or redefined finish on the old config for
   * up to reload.drain_timeout (README "Reload"); tunnels and plain-HTTP requests still open then
   * are closed. Connections through kept backends go on as long as they like.
   */
  closeRetiredLater(names: Set<string>, drainMs: number): void {
    const leaving = new Set([...this.open].filter((record) => record.backend !== undefined && names.has(record.backend)));
    if (leaving.size === 0) return;
    const timer = setTimeout(() => {
      this.retiring.delete(timer);
      const removed = (): Error => Object.assign(new Error('its backend was removed or changed by a reload'), { code: 'backend-removed' });
      const tunnels = [...this.upstreams].filter(([, record]) => leaving.has(record));
      // An error (not a plain destroy) makes the relay close the client side too, and names the reason in the record.
      for (const [socket] of tunnels) socket.destroy(removed());
      const requests = [...this.requests].filter(([record]) => leaving.has(record));
      // A response under way ends with its client connection closed; one not started yet is a 502 naming the reason.
      for (const [, abort] of requests) abort(removed());
      const closed = [...tunnels.map(([, record]) => record), ...requests.map(([record]) => record)];
      if (closed.length === 0) return;
      const backends = [...new Set(closed.map((record) => record.backend))].join(', ');
      const what = [count(tunnels.length, 'tunnel'), count(requests.length, 'HTTP request')].filter(Boolean).join(' and ');
      this.events.warn(`closed ${what} through ${backends}, removed or changed by a reload, after reload.drain_timeout (${drainMs} ms)`);
    }, drainMs);
    timer.unref();
    this.retiring.add(timer);
  }

  /** The records open now, oldest first, with their bytes so far, without captured headers or bodies. */
  list(): ConnectionRecord[] {
    return [...this.open].sort(byStart).map((record) => {
      const copy = { ...record, requestHeaders: undefined, responseHeaders: undefined, requestBody: undefined, responseBody: undefined };
      this.meters.fill(record, copy);
      return copy;
    });
  }

  /**
   * Closes the open tunnels and forwarded requests that match an operator's filter (`connections
   * close`); the record names the reason. Returns how many it closed.
   */
  close(filter: ConnectionFilter): number {
    const picked = (record: ConnectionRecord): boolean => matchesFilter(record, filter);
    const closed = (): Error => Object.assign(new Error('closed by an operator'), { code: 'closed-by-operator' });
    let count = 0;
    for (const [socket, record] of this.upstreams) {
      if (!picked(record)) continue;
      socket.destroy(closed());
      count++;
    }
    for (const [record, abort] of this.requests) {
      if (!picked(record)) continue;
      abort(closed());
      count++;
    }
    return count;
  }

  /** Cancels the pending closes of retired backends (a stop closes everything anyway). */
  cancelRetiring(): void {
    for (const timer of this.retiring) clearTimeout(timer);
  }

  /** Destroys every client, upstream and refused socket still open (the end of a stop). */
  destroyAll(): void {
    for (const socket of [...this.clients, ...this.upstreams.keyList(), ...this.refusing]) socket.destroy();
  }
}

/** Oldest first: by start time, then by id (one process's ids count up in base 36, so a longer one is later). */
function byStart(a: ConnectionRecord, b: ConnectionRecord): number {
  return a.startedAt - b.startedAt || a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** "1 tunnel", "3 tunnels"; empty for none. */
function count(n: number, noun: string): string {
  return n === 0 ? '' : `${n} ${noun}${n > 1 ? 's' : ''}`;
}
