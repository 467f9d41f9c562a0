import type { Socket } from 'node:net';
import { insideTunnel, type ConnectionRecord } from '../protocol/connection-record.js';
import { SlotMap } from './slot-collections.js';

/** Where a request's or tunnel's bytes so far are read: its client socket's counters, less what they held before it began. */
class Meter {
  constructor(
    readonly socket: Socket,
    readonly inBase: number,
    readonly outBase: number,
  ) {}
}

/**
 * Bytes so far of the open requests and tunnels of one engine process, read on demand from the
 * kernel-side counters Node keeps on each client socket (bytesRead, bytesWritten): nothing runs
 * per chunk. A record's own bytesIn/bytesOut are set when it ends; UDP associations count theirs
 * in the record as datagrams pass, so an unmetered record is read as it stands.
 *
 * While throughput is followed (a dashboard or event subscriber listens), sample() also tells the
 * bytes moved since the previous sample, over open records and the ones that ended since.
 */
export class ByteMeters {
  private readonly meters = new SlotMap<ConnectionRecord, Meter>();
  /** While followed: the bytes of each open record already told by sample(). */
  private told: Map<ConnectionRecord, number> | null = null;
  /** While followed: bytes of records that ended since the last sample and were not told yet. */
  private endedUntold = 0;

  /** Reads `record`'s bytes from `socket` until it ends: bytes in are bytesRead less `inBase`, out bytesWritten less `outBase`. */
  meter(record: ConnectionRecord, socket: Socket, inBase: number, outBase: number): void {
    this.meters.set(record, new Meter(socket, inBase, outBase));
  }

  /** Forgets a record that ended (its own counters are final now). */
  ended(record: ConnectionRecord): void {
    this.meters.delete(record);
    if (this.told === null || insideTunnel(record)) return;
    this.endedUntold += Math.max(0, record.bytesIn + record.bytesOut - (this.told.get(record) ?? 0));
    this.told.delete(record);
  }

  /** Sets `copy`'s bytesIn/bytesOut to what `record` has carried so far. */
  fill(record: ConnectionRecord, copy: ConnectionRecord): void {
    const meter = this.meters.get(record);
    if (!meter) return;
    copy.bytesIn = Math.max(0, meter.socket.bytesRead - meter.inBase);
    copy.bytesOut = Math.max(0, meter.socket.bytesWritten - meter.outBase);
  }

  /** Starts (or stops) keeping what sample() needs; bytes carried before it starts are not told. */
  follow(on: boolean, open: Iterable<ConnectionRecord>): void {
    if (!on) {
      this.told = null;
      return;
    }
    if (this.told !== null) return;
    this.told = new Map();
    this.endedUntold = 0;
    for (const record of open) this.told.set(record, this.total(record));
  }

  /** Bytes moved since the previous sample by the open records and those that ended since (0 when not followed). */
  sample(open: Iterable<ConnectionRecord>): number {
    const told = this.told;
    if (told === null) return 0;
    let bytes = this.endedUntold;
    this.endedUntold = 0;
    for (const record of open) {
      const total = this.total(record);
      bytes += total - (told.get(record) ?? 0);
      told.set(record, total);
    }
    return bytes;
  }

  /** Bytes so far each way of every open record (what metrics add to the ended ones at scrape time). */
  sum(open: Iterable<ConnectionRecord>): { in: number; out: number } {
    let bytesIn = 0;
    let bytesOut = 0;
    for (const record of open) {
      if (insideTunnel(record)) continue;
      const meter = this.meters.get(record);
      bytesIn += meter ? Math.max(0, meter.socket.bytesRead - meter.inBase) : record.bytesIn;
      bytesOut += meter ? Math.max(0, meter.socket.bytesWritten - meter.outBase) : record.bytesOut;
    }
    return { in: bytesIn, out: bytesOut };
  }

  /** Bytes so far both ways, as totals count them (a request inside an intercepted tunnel: none, the tunnel has them). */
  private total(record: ConnectionRecord): number {
    if (insideTunnel(record)) return 0;
    const meter = this.meters.get(record);
    if (!meter) return record.bytesIn + record.bytesOut;
    return Math.max(0, meter.socket.bytesRead - meter.inBase) + Math.max(0, meter.socket.bytesWritten - meter.outBase);
  }
}
