import type { Socket } from 'node:net';
import type { ConfigSnapshot } from '../config/model.js';
import { mbpsToBytes, type Pacer } from '../limits/bandwidth.js';
import type { LimiterStore, Verdict } from '../limits/limiter-store.js';
import type { ConnectionRecord, FrontProtocol } from '../protocol/connection-record.js';
import { refusal, type Refusal } from '../protocol/refusal.js';
import { targetText } from '../protocol/target-text.js';
import { CidrSet } from './cidr-set.js';
import { ClientLists } from './client-lists.js';
import type { LimitScope } from './limit-hit.js';
import { policySettings, type StateSettings } from './policy-settings.js';
import type { PolicyState } from './policy-state.js';
import { PortSet } from './port-set.js';
import { RequestBuckets, type Bucket } from './request-buckets.js';
import { unmapIpv4 } from './ip-address.js';
import { isPrivateLiteral, privateTargetReason } from './private-target.js';
import { clientAddress } from '../protocol/client-address.js';

/** What the policy is told about a request once its target is known. */
export interface RequestInfo {
  protocol: FrontProtocol;
  client: string;
  user?: string;
  host: string;
  port: number;
}

/**
 * The traffic policy of one config snapshot: IP access control, connection limits, the
 * open-relay guard (port lists, private targets), request-rate limits and bandwidth. Built on
 * every reload; the counters and buckets live in the engine's PolicyState.
 */
export class Policy {
  private readonly lists: ClientLists;
  private readonly trusted: CidrSet;
  private readonly connectPorts: PortSet;
  private readonly safePorts: PortSet;
  private readonly allowPrivate: boolean;
  private readonly buckets: RequestBuckets;
  private readonly stateSettings: StateSettings;
  private store: LimiterStore | null = null;
  private readonly maxPerIp: number;
  private readonly maxPerBackend: number;
  private readonly maxTotal: number;
  /** Whether connections are counted with the fleet (`state.store: redis`). */
  private readonly inFleet: boolean;

  constructor(
    snapshot: ConfigSnapshot,
    private readonly state: PolicyState,
  ) {
    const settings = policySettings(snapshot);
    const acl = settings.accessControl;
    this.lists = new ClientLists(acl);
    this.trusted = new CidrSet(acl.trusted_clients);
    this.connectPorts = new PortSet(acl.connect_ports);
    this.safePorts = new PortSet(acl.safe_ports);
    this.allowPrivate = acl.allow_private_targets;
    const rl = settings.rateLimiting;
    this.buckets = new RequestBuckets(rl);
    this.stateSettings = settings.state;
    const bw = rl.enabled && rl.bandwidth?.enabled ? rl.bandwidth : null;
    state.bandwidth.configure({
      perConnection: bw ? mbpsToBytes(bw.max_mbps_per_connection) : 0,
      perIp: bw ? mbpsToBytes(bw.max_mbps_per_ip) : 0,
      total: bw ? mbpsToBytes(bw.max_mbps_total) : 0,
    });
    this.maxPerIp = snapshot.network.limits.maxConnectionsPerIp;
    state.slots?.configure(this.maxPerIp);
    this.maxTotal = snapshot.network.limits.maxConnections;
    this.inFleet = settings.state.store === 'redis';
    this.maxPerBackend = snapshot.network.limits.maxConnectionsPerBackend;
    state.backendLimit = this.maxPerBackend;
  }

  /** Whether the IP lists let a client in (checked at accept, before any parsing); reports a refusal. */
  allowsClient(address: string, protocol: FrontProtocol): boolean {
    const refusal = this.lists.refusal(address);
    if (refusal === null) return true;
    this.hit('acl', address, refusal, protocol);
    return false;
  }

  /** Whether the IP lists would let a client in (nothing reported: allowsClient reports when it runs). */
  listsAdmit(address: string): boolean {
    return this.lists.refusal(address) === null;
  }

  /**
   * Counts a new client connection against max_connections_per_ip (and, in a fleet sharing
   * Redis, against max_connections over every node); false (and reported) when over either.
   */
  admitClient(socket: Socket, protocol: FrontProtocol): boolean {
    const fleet = this.inFleet ? this.state.fleetFor(this.stateSettings) : null;
    if (fleet?.full(this.maxTotal)) {
      this.refusedByConnectionLimit(clientAddress(socket), protocol, this.maxTotal);
      return false;
    }
    if (this.maxPerIp === 0) return true;
    const address = clientAddress(socket);
    const { perIp } = this.state;
    const open = perIp.get(address) ?? 0;
    const elsewhere = fleet ? fleet.perIp.openElsewhere(address) : 0;
    if (open + elsewhere >= this.maxPerIp) {
      this.refusedByClientLimit(address, protocol);
      return false;
    }
    perIp.set(address, open + 1);
    // 'close' is emitted once: on() spares once()'s wrapper, and outside a fleet one listener serves every connection.
    if (fleet === null) {
      socket.on('close', this.state.perIpClosed);
      return true;
    }
    fleet.perIp.changed(address, open + 1, this.maxPerIp);
    socket.on('close', () => {
      this.state.perIpClosed.call(socket);
      fleet.perIp.changed(address, perIp.get(address) ?? 0, this.maxPerIp);
    });
    return true;
  }

  /** Reports a connection refused by network.limits.max_connections_per_ip. */
  refusedByClientLimit(address: string, protocol: FrontProtocol): void {
    this.hit('connections', address, `network.limits.max_connections_per_ip (${this.maxPerIp}) reached`, protocol);
  }

  /** Reports a connection refused by network.limits.max_connections. */
  refusedByConnectionLimit(address: string, protocol: FrontProtocol, max: number): void {
    this.hit('connections', address, `network.limits.max_connections (${max}) reached`, protocol);
  }

  /**
   * Checks a request whose target is known: the port lists and private targets (for clients
   * outside trusted_clients), then the rate limits. Answers null to go on, or the refusal
   * (already reported); synchronously unless a shared store answers, and then with a promise
   * that never rejects. Names are not resolved here: a backend that resolves them on this host
   * checks the addresses it dials (see `refusesPrivate`), so a name is looked up once, and what
   * is checked is what is used.
   */
  checkRequest(info: RequestInfo): Refusal | null | Promise<Refusal | null> {
    const untrusted = !this.trusted.has(info.client);
    if (untrusted) {
      const connect = info.protocol === 'connect';
      if (!(connect ? this.connectPorts : this.safePorts).has(info.port)) {
        return this.deny(info, 'port', refusal('port-not-allowed', `port ${info.port} is not in access_control.${connect ? 'connect_ports' : 'safe_ports'}`));
      }
      if (!this.allowPrivate && isPrivateLiteral(info.host)) return this.deny(info, 'private-target', refusal('private-target', privateTargetReason(info.host)));
    }
    const used = this.buckets.used(info.user);
    if (used.length === 0) return null;
    const requests = this.buckets.requests(info.client, info.user);
    // Taken on first use: an engine that serves no traffic (the cluster primary's) opens no store.
    this.store ??= this.state.storeFor(this.stateSettings);
    const verdict = this.store.consume(requests);
    if (verdict instanceof Promise) return verdict.then((v) => this.decide(info, used, v), () => null);
    return this.decide(info, used, verdict);
  }

  /** Whether connections for this client must refuse loopback and link-local addresses where they are dialled (it is outside trusted_clients). */
  refusesPrivate(client: string): boolean {
    return !this.allowPrivate && !this.trusted.has(client);
  }

  /** Reports a request refused because the address its dial would have reached is private. */
  refusedPrivate(record: ConnectionRecord, reason: string): void {
    this.hit('private-target', record.clientAddress, reason, record.protocol, record.user, targetText(record.host, record.port));
  }

  /** Reports a request refused because it loops back to this proxy (its own listener, or its Via token came back). */
  refusedLoop(record: ConnectionRecord, reason: string): void {
    this.hit('loop', record.clientAddress, reason, record.protocol, record.user, targetText(record.host, record.port));
  }

  /** Reports a connection a rule with `action: reject` refused (counted as `by="reject"`, logged with the rule's name). */
  refusedByRule(record: ConnectionRecord, reason: string): void {
    this.hit('reject', record.clientAddress, reason, record.protocol, record.user, targetText(record.host, record.port));
  }

  /** Takes a slot of the record's backend under max_connections_per_backend; the refusal when it is full. */
  acquireBackend(record: ConnectionRecord, backend: string, info: RequestInfo): Refusal | null {
    if (this.maxPerBackend === 0) return null;
    // With the other workers' count at their last report: exact but for what they took since (within one burst).
    if ((this.state.perBackend.get(backend) ?? 0) + (this.state.backendsElsewhere.get(backend) ?? 0) >= this.maxPerBackend) {
      return this.deny(info, 'connections', refusal('backend-limit', `network.limits.max_connections_per_backend (${this.maxPerBackend}) reached for backend "${backend}"`));
    }
    this.state.hold(record, backend);
    return null;
  }

  /** Gives back the backend slot `acquireBackend` took for a record that is not finished through the engine (a UDP flow). */
  releaseBackend(record: ConnectionRecord): void {
    this.state.release(record);
  }

  /** The bandwidth pacer for a new tunnel or response of `client`, or null when no limit applies. */
  pacer(client: string): Pacer | null {
    return this.state.bandwidth.pacer(unmapIpv4(client));
  }

  /** The rate limits' verdict: null, or the refusal (429 with Retry-After) of the bucket that refused. */
  private decide(info: RequestInfo, used: readonly Bucket[], verdict: Verdict): Refusal | null {
    if (verdict.ok) return null;
    const bucket = used[verdict.refusedBy];
    const name = bucket.scope === 'global' ? 'global' : bucket.scope === 'ip' ? 'per_ip' : 'per_user';
    const retryAfterS = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    return this.deny(info, bucket.scope, refusal('rate-limited', `rate_limiting.${name} exceeded (${bucket.rate} requests/s, burst ${bucket.burst})`, { 'Retry-After': retryAfterS }));
  }

  private deny(info: RequestInfo, scope: LimitScope, refused: Refusal): Refusal {
    this.hit(scope, info.client, refused.reason, info.protocol, info.user, targetText(info.host, info.port));
    return refused;
  }

  private hit(scope: LimitScope, client: string, reason: string, protocol: FrontProtocol, user?: string, target?: string): void {
    this.state.events.hit({ scope, client: unmapIpv4(client), reason, protocol, time: Date.now(), ...(user ? { user } : {}), ...(target ? { target } : {}) });
  }
}

export { PolicyState, type PolicyEvents } from './policy-state.js';
