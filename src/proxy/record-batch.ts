import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { RecordEvent } from './worker-protocol.js';

/**
 * Record starts and ends waiting to go to the primary in one message. Records are serialised
 * when the batch is sent, not copied here: a start shows the record as it is then, and a record
 * that ends before the batch goes out travels once, as `both`.
 */
export class RecordBatch {
  private events: RecordEvent[] = [];
  /** Where each record that started in this batch has its start event, by id. */
  private readonly starts = new Map<string, number>();

  /** Whether nothing waits. */
  get empty(): boolean {
    return this.events.length === 0;
  }

  /** Adds a start or an end. */
  add(phase: 'start' | 'end', record: ConnectionRecord): void {
    if (phase === 'end') {
      const at = this.starts.get(record.id);
      if (at !== undefined) {
        this.events[at] = { phase: 'both', record };
        this.starts.delete(record.id);
        return;
      }
    } else {
      this.starts.set(record.id, this.events.length);
    }
    this.events.push({ phase, record });
  }

  /** Everything that waits, in order, leaving the batch empty. */
  take(): RecordEvent[] {
    const events = this.events;
    this.events = [];
    this.starts.clear();
    return events;
  }
}
