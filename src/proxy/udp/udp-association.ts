import type { RemoteInfo, Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { Pacer } from '../../limits/bandwidth.js';
import { holds } from '../../limits/hold.js';
import type { ConnectionRecord, UdpTally } from '../../protocol/connection-record.js';
import { destination, readDatagram, replyHeader } from './socks5-datagram.js';
import { openFlow, type FlowContext, type FlowOutcome } from './flow-opener.js';
import { MAX_PENDING, type FlowOwner, type UdpFlow } from './udp-flow.js';
import type { UdpDropReason as DropReason } from '../../protocol/connection-record.js';
import type { Closable, UdpHub } from './udp-hub.js';
import type { UdpSettings } from './udp-settings.js';

/** Destinations named in a record; the rest are only counted. */
const LISTED_DESTINATIONS = 16;
/** A flow moves to the recent end of the LRU orders at most this often (ms): a map re-insert per datagram is not needed. */
const REORDER_MS = 1_000;

/** What an association is made of once its relay socket is bound. */
export interface AssociationParts {
  flows: FlowContext;
  /** The client's IP address (IPv4-mapped addresses as IPv4), the only source accepted. */
  client: string;
  hub: UdpHub;
  settings: UdpSettings;
  control: Socket;
  relay: DgramSocket;
  record: ConnectionRecord;
  pacer: Pacer | null;
  /** The client's UDP port when the request named one (0: learned from its first datagram). */
  clientPort: number;
}

/**
 * One SOCKS5 UDP association (RFC 1928 section 7): a relay socket of its own that accepts
 * datagrams only from the client's address (and port, once known), a NAT entry per destination
 * with its own route and backend socket, and one record for the whole association. It ends when
 * the TCP control connection closes, after `idle_timeout` without a datagram, or at stop.
 */
export class UdpAssociation implements FlowOwner, Closable {
  private readonly flows = new Map<string, UdpFlow>();
  private readonly tally: UdpTally = { datagramsIn: 0, datagramsOut: 0, dropped: 0, destinations: [], destinationCount: 0 };
  private readonly client: string;
  private clientPort: number;
  private lastActivity = Date.now();
  private readonly timer: NodeJS.Timeout;
  private ended = false;

  constructor(private readonly parts: AssociationParts) {
    this.client = parts.client;
    this.clientPort = parts.clientPort;
    parts.record.udp = this.tally;
    parts.hub.opened(this);
    parts.relay.on('message', (datagram, from) => this.fromClient(datagram, from));
    parts.relay.on('error', () => this.close('relay-error'));
    // The control connection carries nothing more; its end (or loss) ends the association.
    parts.control.on('data', () => undefined);
    parts.control.once('close', () => this.close());
    parts.control.on('end', () => parts.control.end());
    // Known to the engine like a tunnel's upstream: a forced stop, or a reload that retires the
    // association's backend (after reload.drain_timeout), ends it by destroying this connection.
    parts.control.on('error', (error: NodeJS.ErrnoException) => this.close(error.code === 'backend-removed' ? 'backend-removed' : undefined));
    parts.flows.ctx.track(parts.control, parts.record);
    const { idleMs, flowIdleMs } = parts.settings;
    this.timer = setInterval(() => this.sweep(), Math.min(5_000, Math.max(50, Math.min(idleMs, flowIdleMs) / 4)));
    this.timer.unref();
  }

  /** The association's record: its bytes and datagram tally grow as datagrams pass. */
  get record(): ConnectionRecord {
    return this.parts.record;
  }

  /** Ends the association: its sockets and NAT entries are freed and its record published. */
  close(error?: string): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    const { hub, relay, control, record, pacer, flows } = this.parts;
    for (const flow of this.flows.values()) this.closeFlow(flow);
    this.flows.clear();
    relay.close();
    control.destroy();
    pacer?.release();
    hub.closed(this);
    if (error && !record.error) record.error = error;
    flows.ctx.end(record);
  }

  /** Drops a NAT entry the global cap evicted. */
  evict(flow: UdpFlow): void {
    if (this.flows.get(flow.key) === flow) this.flows.delete(flow.key);
    this.closeFlow(flow);
  }

  private fromClient(datagram: Buffer, from: RemoteInfo): void {
    // Only the client that asked for the association may use it (the port too, once known).
    if (from.address !== this.client || (this.clientPort !== 0 && from.port !== this.clientPort)) return this.drop('stranger');
    const header = readDatagram(datagram);
    if (typeof header === 'string') return this.drop(header);
    if (this.clientPort === 0) this.clientPort = from.port;
    const now = Date.now();
    this.lastActivity = now;
    const flow = this.flows.get(header.key) ?? this.newFlow(header.key, now);
    const payload = datagram.subarray(header.offset);
    if (flow.state === 'refused') return this.drop('refused');
    if (this.parts.pacer && holds(this.parts.pacer.up(payload.length))) return this.drop('bandwidth');
    this.tally.datagramsIn++;
    this.parts.record.bytesIn += payload.length;
    this.used(flow, now);
    if (flow.state === 'open') return flow.channel!.send(payload);
    if (flow.queue.length >= MAX_PENDING) return this.drop('pending');
    flow.queue.push(payload);
  }

  private newFlow(key: string, now: number): UdpFlow {
    const { settings, hub, record } = this.parts;
    const flow: UdpFlow = { key, owner: this, state: 'pending', channel: null, release: null, queue: [], lastUsed: now, orderedAt: now, header: null, headerFrom: '' };
    this.flows.set(key, flow);
    if (this.flows.size > settings.maxFlowsPerAssociation) this.evict(this.flows.values().next().value as UdpFlow);
    hub.addFlow(flow, settings.maxFlows);
    const { host, port } = destination(key);
    if (this.tally.destinationCount++ === 0) {
      record.host = host;
      record.port = port;
    }
    if (this.tally.destinations.length < LISTED_DESTINATIONS) this.tally.destinations.push(hostPort(host, port));
    openFlow(this.parts.flows, host, port, (outcome) => this.opened(flow, outcome));
    return flow;
  }

  private opened(flow: UdpFlow, outcome: FlowOutcome): void {
    const { record } = this.parts;
    // Set up after the association ended (or the entry was evicted): nothing is left to use it.
    if (flow.state !== 'pending') {
      if (outcome.ok) {
        outcome.channel.close();
        outcome.release();
      }
      return;
    }
    if (!outcome.ok) {
      // The destination is refused, the association goes on; the record keeps the first reason.
      record.error ??= outcome.error;
      record.rule ??= outcome.rule;
      for (let i = 0; i < flow.queue.length; i++) this.drop('refused');
      flow.queue = [];
      flow.state = 'refused';
      return;
    }
    const channel = outcome.channel;
    flow.channel = channel;
    flow.release = outcome.release;
    flow.state = 'open';
    // Made apart from the assignments: V8 allocates a function literal assigned to a property in
    // the old generation, and the flow and its association would live on after both ended until
    // the next mark-compact.
    const onReply = (payload: Buffer, address: string, port: number): void => this.toClient(flow, payload, address, port);
    const onClose = (): void => this.evict(flow);
    channel.onReply = onReply;
    channel.onClose = onClose;
    for (const payload of flow.queue) channel.send(payload);
    flow.queue = [];
  }

  private toClient(flow: UdpFlow, payload: Buffer, address: string, port: number): void {
    if (this.ended) return;
    if (this.parts.pacer && holds(this.parts.pacer.down(payload.length))) return this.drop('bandwidth');
    const from = `${address}|${port}`;
    if (flow.headerFrom !== from) {
      flow.header = replyHeader(address, port);
      flow.headerFrom = from;
    }
    const now = Date.now();
    this.lastActivity = now;
    this.used(flow, now);
    this.tally.datagramsOut++;
    this.parts.record.bytesOut += payload.length;
    this.parts.relay.send([flow.header!, payload], this.clientPort, this.client);
  }

  private used(flow: UdpFlow, now: number): void {
    flow.lastUsed = now;
    if (now - flow.orderedAt < REORDER_MS) return;
    flow.orderedAt = now;
    this.flows.delete(flow.key);
    this.flows.set(flow.key, flow);
    this.parts.hub.touchFlow(flow);
  }

  private sweep(): void {
    const now = Date.now();
    const { idleMs, flowIdleMs } = this.parts.settings;
    if (now - this.lastActivity >= idleMs) return this.close('idle-timeout');
    for (const flow of this.flows.values()) {
      if (now - flow.lastUsed < flowIdleMs) continue;
      this.flows.delete(flow.key);
      this.closeFlow(flow);
    }
  }

  private closeFlow(flow: UdpFlow): void {
    this.parts.hub.removeFlow(flow);
    flow.state = 'closed';
    flow.queue = [];
    flow.channel?.close();
    flow.channel = null;
    flow.release?.();
    flow.release = null;
  }

  private drop(reason: DropReason): void {
    this.tally.dropped++;
    this.parts.hub.drop(reason);
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
