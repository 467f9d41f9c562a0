import type { EventEmitter } from 'node:events';
import type { DebugSpec } from '../config/model.js';
import type { CaptureSettings, ConnectionRecord } from '../protocol/connection-record.js';
import type { EngineEvents } from '../engine/engine-api.js';
import type { DebugAnswer, DebugRequest, DebugState, TrafficEvent } from './debug-request.js';
import { maskHeaderList, maskedNames } from './header-mask.js';
import { TrafficFilter } from './traffic-filter.js';
import { endLines, recordText, startLines } from './traffic-format.js';
import { TrafficLogWriter } from './traffic-log-writer.js';
import { countRecord, emptyCounts, type TrafficCounts } from './traffic-stats.js';
import { NO_INTERCEPTION, type Interception } from '../mitm/interception.js';

/** Memory the kept records of one process may use, whatever `history` and body sizes say. */
const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/** Where a recorder follows records: the engine it runs in. */
export type RecordSource = Pick<EventEmitter<EngineEvents>, 'on' | 'off'>;

/** What a recorder needs of the engine process it runs in. */
export interface RecorderHooks {
  /** Sets what plain-HTTP exchanges keep beyond the metadata (null: nothing more). */
  capture(settings: CaptureSettings | null): void;
  /** Publishes a masked record as it starts or ends. */
  publish(event: TrafficEvent): void;
  /** Reports a problem with the debug log. */
  warn(message: string): void;
  /** The process's HTTPS interception, which follows the `debug.mitm` settings given here. */
  interception?: Interception;
}

interface Entry {
  record: ConnectionRecord;
  bytes: number;
}

/**
 * The traffic debugger's work in one engine process (README "Watching it"), next to the records it follows so
 * that they need not leave the process: masks what must not be shown, writes this process's
 * lines of the debug log (appended to the same file as the other processes'), keeps the most
 * recent records in a ring bounded by count and memory, keeps running counters and publishes
 * every record for live viewers.
 */
export class TrafficRecorder {
  private spec: DebugSpec | null = null;
  private following = false;
  private filter = new TrafficFilter({ domains: [], methods: [], statusCodes: [] });
  private masked: ReadonlySet<string> = new Set();
  private writer: TrafficLogWriter | null = null;
  private readonly ring: Entry[] = [];
  private readonly byId = new Map<string, Entry>();
  private keptBytes = 0;
  private counts = emptyCounts(null);
  private hosts = new Map<string, number>();
  private readonly onStart = (record: ConnectionRecord): void => this.started(record);
  private readonly onEnd = (record: ConnectionRecord): void => this.ended(record);

  constructor(
    private readonly source: RecordSource,
    private readonly hooks: RecorderHooks,
  ) {}

  /** Answers one request of the daemon. */
  async answer<R extends DebugRequest>(request: R): Promise<DebugAnswer<R>> {
    const answer = await this.dispatch(request);
    return answer as DebugAnswer<R>;
  }

  /** Stops following and flushes the log (the engine is stopping). */
  async close(): Promise<void> {
    await this.stop();
  }

  private async dispatch(request: DebugRequest): Promise<DebugAnswer<DebugRequest>> {
    switch (request.op) {
      case 'set':
        await this.set(request.state);
        return null;
      case 'list':
        return this.list(request.limit, request.text);
      case 'get':
        return this.byId.get(request.id)?.record ?? null;
      case 'counts':
        return this.snapshotCounts();
      case 'clear':
        this.clear();
        return null;
    }
  }

  /** Applies settings from scratch (the log reopens), keeping what was recorded. */
  private async set(state: DebugState): Promise<void> {
    await this.stop();
    this.hooks.interception?.configure(state.spec.mitm, state.ca);
    this.spec = state.spec;
    this.filter = new TrafficFilter(state.spec.filter);
    this.masked = maskedNames(state.spec.maskHeaders, state.spec.unmask);
    if (!state.on) return;
    this.following = true;
    this.counts.since ??= Date.now();
    this.writer = this.openWriter(state.spec);
    this.source.on('connection:start', this.onStart);
    this.source.on('connection:end', this.onEnd);
    this.hooks.capture(captureFor(state.spec));
  }

  private async stop(): Promise<void> {
    if (!this.following) return;
    this.following = false;
    this.source.off('connection:start', this.onStart);
    this.source.off('connection:end', this.onEnd);
    this.hooks.capture(null);
    await this.writer?.close();
    this.writer = null;
  }

  private list(limit: number, text?: string): ConnectionRecord[] {
    const out: ConnectionRecord[] = [];
    const needle = text?.toLowerCase();
    for (let i = this.ring.length - 1; i >= 0 && out.length < limit; i--) {
      const record = this.ring[i].record;
      if (needle === undefined || recordText(record).includes(needle)) out.push(record);
    }
    return out;
  }

  private clear(): void {
    this.ring.length = 0;
    this.byId.clear();
    this.keptBytes = 0;
    this.counts = emptyCounts(this.following ? Date.now() : null);
    this.hosts = new Map();
  }

  private snapshotCounts(): TrafficCounts {
    const hosts = Object.create(null) as Record<string, number>;
    for (const [host, count] of this.hosts) hosts[host] = count;
    return { ...this.counts, hosts, kept: this.ring.length, keptBytes: this.keptBytes, droppedLines: this.writer?.dropped ?? 0, mitm: this.hooks.interception?.counts() ?? NO_INTERCEPTION };
  }

  private started(raw: ConnectionRecord): void {
    if (!this.filter.admitsRequest(raw)) return;
    const record = this.mask(raw);
    this.keep(record);
    if (!this.filter.waitsForStatus) this.writer?.write(startLines(record, this.logOptions()));
    this.hooks.publish({ phase: 'request', record });
  }

  private ended(raw: ConnectionRecord): void {
    if (!this.filter.admits(raw)) {
      this.forget(raw.id);
      return;
    }
    const record = this.mask(raw);
    const seenStart = this.byId.has(record.id) && !this.filter.waitsForStatus;
    this.keep(record);
    countRecord(this.counts, this.hosts, record);
    this.writer?.write([...(seenStart ? [] : startLines(record, this.logOptions())), ...endLines(record, this.logOptions())]);
    this.hooks.publish({ phase: 'response', record });
  }

  private logOptions(): { requests: boolean; responses: boolean } {
    return { requests: this.spec!.logRequests, responses: this.spec!.logResponses };
  }

  /** The record with the configured headers masked, in a copy (the engine's own record is never changed). */
  private mask(record: ConnectionRecord): ConnectionRecord {
    if (!record.requestHeaders && !record.responseHeaders) return record;
    const copy = { ...record };
    if (copy.requestHeaders) copy.requestHeaders = maskHeaderList(copy.requestHeaders, this.masked);
    if (copy.responseHeaders) copy.responseHeaders = maskHeaderList(copy.responseHeaders, this.masked);
    return copy;
  }

  private keep(record: ConnectionRecord): void {
    const bytes = sizeOf(record);
    const existing = this.byId.get(record.id);
    if (existing) {
      this.keptBytes += bytes - existing.bytes;
      existing.record = record;
      existing.bytes = bytes;
    } else {
      const entry = { record, bytes };
      // A request is routed (and a refusal ends) after it was accepted, so arrival order is not start order.
      let at = this.ring.length;
      while (at > 0 && this.ring[at - 1].record.startedAt > record.startedAt) at--;
      if (at === this.ring.length) this.ring.push(entry);
      else this.ring.splice(at, 0, entry);
      this.byId.set(record.id, entry);
      this.keptBytes += bytes;
    }
    while (this.ring.length > this.spec!.history || (this.keptBytes > MAX_HISTORY_BYTES && this.ring.length > 1)) {
      const oldest = this.ring.shift()!;
      this.byId.delete(oldest.record.id);
      this.keptBytes -= oldest.bytes;
    }
  }

  private forget(id: string): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.byId.delete(id);
    this.ring.splice(this.ring.indexOf(entry), 1);
    this.keptBytes -= entry.bytes;
  }

  private openWriter(spec: DebugSpec): TrafficLogWriter {
    const toFile = spec.output === 'file' || spec.output === 'both';
    const toStdout = spec.output === 'stdout' || spec.output === 'both';
    return new TrafficLogWriter(toFile ? spec.logFile : null, toStdout, this.hooks.warn);
  }
}

/** What the engine must keep for these settings (null: metadata only, the cheap path). */
function captureFor(spec: DebugSpec): CaptureSettings | null {
  return spec.logHeaders || spec.bodyBytes > 0 ? { headers: spec.logHeaders, bodyBytes: spec.bodyBytes } : null;
}

/** Approximate memory of a kept record (strings dominate). */
function sizeOf(record: ConnectionRecord): number {
  let bytes = 400 + record.host.length + (record.path?.length ?? 0);
  for (const list of [record.requestHeaders, record.responseHeaders]) if (list) for (const item of list) bytes += item.length + 16;
  bytes += (record.requestBody?.text.length ?? 0) + (record.responseBody?.text.length ?? 0);
  return bytes;
}
