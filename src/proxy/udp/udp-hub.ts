import type { UdpCounts } from '../../engine/engine-api.js';
import type { ConnectionRecord, UdpDropReason as DropReason } from '../../protocol/connection-record.js';
import type { UdpFlow } from './udp-flow.js';

/** Where the hub reports what metrics count (absent while metrics are off). */
export interface UdpMetricsSink {
  udpDropped(reason: DropReason): void;
}

/** An open association as the hub knows it: closed at stop, its record read for the live counts. */
export interface Closable {
  close(reason: string): void;
  /** Its record, whose bytes and `udp` tally grow as datagrams pass. */
  readonly record: ConnectionRecord;
}

/**
 * The UDP relay state of one engine process: open associations (closed at stop), the NAT
 * entries of all of them under `socks5.udp.max_flows` (least recently used dropped first), and
 * the drop counters.
 */
export class UdpHub {
  private readonly open = new Set<Closable>();
  /** Every flow, least recently used first (re-ordered at most once a second per flow). */
  private readonly flows = new Set<UdpFlow>();
  /** Datagrams dropped, by reason, since start. */
  readonly dropped = new Map<DropReason, number>();
  associationsTotal = 0;
  /** What associations that ended carried (the open ones are read from their records when asked). */
  private readonly ended = { datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0 };

  constructor(private readonly metrics: () => UdpMetricsSink | null) {}

  /** Open associations now. */
  get active(): number {
    return this.open.size;
  }

  /** NAT entries now, over all associations. */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Counts a new association until `closed`. */
  opened(association: Closable): void {
    this.open.add(association);
    this.associationsTotal++;
  }

  /** Forgets an association that ended, keeping what it carried in the totals. */
  closed(association: Closable): void {
    if (!this.open.delete(association)) return;
    const { record } = association;
    this.ended.datagramsIn += record.udp?.datagramsIn ?? 0;
    this.ended.datagramsOut += record.udp?.datagramsOut ?? 0;
    this.ended.bytesIn += record.bytesIn;
    this.ended.bytesOut += record.bytesOut;
  }

  /** Counts since start, with what the open associations carried so far: they grow while an association is open, never go back. */
  counts(): UdpCounts {
    const sum = { ...this.ended };
    for (const { record } of this.open) {
      sum.datagramsIn += record.udp?.datagramsIn ?? 0;
      sum.datagramsOut += record.udp?.datagramsOut ?? 0;
      sum.bytesIn += record.bytesIn;
      sum.bytesOut += record.bytesOut;
    }
    return { associationsActive: this.open.size, associationsTotal: this.associationsTotal, flowsActive: this.flows.size, ...sum, dropped: Object.fromEntries(this.dropped) };
  }

  /** Adds a NAT entry; past `max` the least recently used entry (of any association) is dropped. */
  addFlow(flow: UdpFlow, max: number): void {
    this.flows.add(flow);
    while (this.flows.size > max) {
      const oldest = this.flows.values().next().value as UdpFlow;
      this.flows.delete(oldest);
      oldest.owner.evict(oldest);
    }
  }

  /** Moves an entry to the recently used end. */
  touchFlow(flow: UdpFlow): void {
    if (!this.flows.delete(flow)) return;
    this.flows.add(flow);
  }

  /** Forgets an entry (idled out, evicted by its association, or its association ended). */
  removeFlow(flow: UdpFlow): void {
    this.flows.delete(flow);
  }

  /** Counts one dropped datagram. */
  drop(reason: DropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.metrics()?.udpDropped(reason);
  }

  /** Ends every association (engine stop). */
  closeAll(reason: string): void {
    for (const association of [...this.open]) association.close(reason);
  }
}
