import { EventEmitter } from 'node:events';
import type { DebugSpec } from '../config/model.js';
import type { CaptureSettings, ConnectionRecord } from '../proxy/connection-record.js';
import type { Engine } from '../proxy/engine.js';
import { maskHeaderList } from './header-mask.js';
import { TrafficFilter } from './traffic-filter.js';
import { endLines, recordText, startLines } from './traffic-format.js';
import { TrafficLogWriter } from './traffic-log-writer.js';

/** Memory the kept records may use, whatever `history` and body sizes say. */
const MAX_HISTORY_BYTES = 64 * 1024 * 1024;
/** Distinct hosts counted by name in the stats; later ones count as "(other)". */
const MAX_HOSTS = 10_000;

/** One debugger event: a request routed, or its end. Records are already masked. */
export interface TrafficEvent {
  phase: 'request' | 'response';
  record: ConnectionRecord;
}

/** What `GET /api/debug/stats` answers. */
export interface TrafficStats {
  enabled: boolean;
  since: number | null;
  requests: number;
  tunnels: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  averageDurationMs: number;
  byStatusClass: Record<string, number>;
  byMethod: Record<string, number>;
  byBackend: Record<string, number>;
  topHosts: { host: string; count: number }[];
  kept: number;
  keptBytes: number;
  droppedLines: number;
}

interface Entry {
  record: ConnectionRecord;
  bytes: number;
}

/**
 * The traffic debugger (spec 4): follows the engine's records while enabled, masks what must
 * not leave the process, writes the debug log of spec 4.1, keeps the most recent records in a
 * ring bounded by count and memory, keeps running stats and publishes every record.
 */
export class TrafficDebugger extends EventEmitter<{ traffic: [TrafficEvent] }> {
  private spec: DebugSpec;
  private following = false;
  private filter: TrafficFilter;
  private masked: ReadonlySet<string>;
  private writer: TrafficLogWriter | null = null;
  private readonly ring: Entry[] = [];
  private readonly byId = new Map<string, Entry>();
  private keptBytes = 0;
  private stats = emptyStats();
  private readonly onStart = (record: ConnectionRecord): void => this.started(record);
  private readonly onEnd = (record: ConnectionRecord): void => this.ended(record);

  constructor(
    private readonly engine: Engine,
    spec: DebugSpec,
    private readonly warn: (message: string) => void,
  ) {
    super();
    this.spec = spec;
    this.filter = new TrafficFilter(spec.filter);
    this.masked = new Set(spec.maskHeaders);
  }

  /** Whether records are being followed now. */
  get enabled(): boolean {
    return this.following;
  }

  /** The settings in force. */
  get settings(): DebugSpec {
    return this.spec;
  }

  /** Starts following records (and asks the engine for headers and bodies if the settings want them). */
  async enable(): Promise<void> {
    if (this.following) return;
    this.following = true;
    this.stats.since ??= Date.now();
    this.writer = this.openWriter();
    this.engine.on('connection:start', this.onStart);
    this.engine.on('connection:end', this.onEnd);
    await this.engine.setCapture(captureFor(this.spec));
  }

  /** Stops following records; what was kept stays available. */
  async disable(): Promise<void> {
    if (!this.following) return;
    this.following = false;
    this.engine.off('connection:start', this.onStart);
    this.engine.off('connection:end', this.onEnd);
    await this.engine.setCapture(null);
    await this.writer?.close();
    this.writer = null;
  }

  /** Applies reloaded settings; `debug on|off` given at run time holds unless the file's `enabled` changed. */
  async configure(spec: DebugSpec): Promise<void> {
    const enabledChanged = spec.enabled !== this.spec.enabled;
    const wasOn = this.following;
    await this.disable();
    this.spec = spec;
    this.filter = new TrafficFilter(spec.filter);
    this.masked = new Set(spec.maskHeaders);
    if (enabledChanged ? spec.enabled : wasOn) await this.enable();
  }

  /** Kept records, newest first, optionally only those whose line mentions `text`. */
  list(limit = 100, text?: string): ConnectionRecord[] {
    const out: ConnectionRecord[] = [];
    const needle = text?.toLowerCase();
    for (let i = this.ring.length - 1; i >= 0 && out.length < limit; i--) {
      const record = this.ring[i].record;
      if (needle === undefined || recordText(record).includes(needle)) out.push(record);
    }
    return out;
  }

  /** One kept record by id. */
  get(id: string): ConnectionRecord | undefined {
    return this.byId.get(id)?.record;
  }

  /** Forgets every kept record and resets the stats. */
  clear(): void {
    this.ring.length = 0;
    this.byId.clear();
    this.keptBytes = 0;
    this.stats = emptyStats();
    if (this.following) this.stats.since = Date.now();
  }

  /** Running statistics over the records seen since enabling (or the last clear). */
  summary(): TrafficStats {
    const s = this.stats;
    const topHosts = [...s.hosts].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([host, count]) => ({ host, count }));
    return {
      enabled: this.following,
      since: s.since,
      requests: s.requests,
      tunnels: s.tunnels,
      errors: s.errors,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      averageDurationMs: s.finished > 0 ? Math.round(s.durationMs / s.finished) : 0,
      byStatusClass: s.byStatusClass,
      byMethod: s.byMethod,
      byBackend: s.byBackend,
      topHosts,
      kept: this.ring.length,
      keptBytes: this.keptBytes,
      droppedLines: this.writer?.dropped ?? 0,
    };
  }

  /** Stops following and flushes the log. */
  async close(): Promise<void> {
    await this.disable();
  }

  private started(raw: ConnectionRecord): void {
    if (!this.filter.admitsRequest(raw)) return;
    const record = this.mask(raw);
    this.keep(record);
    if (!this.filter.waitsForStatus) this.writer?.write(startLines(record, this.logOptions()));
    this.emit('traffic', { phase: 'request', record });
  }

  private ended(raw: ConnectionRecord): void {
    if (!this.filter.admits(raw)) {
      this.forget(raw.id);
      return;
    }
    const record = this.mask(raw);
    const seenStart = this.byId.has(record.id) && !this.filter.waitsForStatus;
    this.keep(record);
    this.count(record);
    this.writer?.write([...(seenStart ? [] : startLines(record, this.logOptions())), ...endLines(record, this.logOptions())]);
    this.emit('traffic', { phase: 'response', record });
  }

  private logOptions(): { requests: boolean; responses: boolean } {
    return { requests: this.spec.logRequests, responses: this.spec.logResponses };
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
      // Engine processes report independently, so a record can arrive after a later one: keep start order.
      let at = this.ring.length;
      while (at > 0 && this.ring[at - 1].record.startedAt > record.startedAt) at--;
      if (at === this.ring.length) this.ring.push(entry);
      else this.ring.splice(at, 0, entry);
      this.byId.set(record.id, entry);
      this.keptBytes += bytes;
    }
    while (this.ring.length > this.spec.history || (this.keptBytes > MAX_HISTORY_BYTES && this.ring.length > 1)) {
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

  private count(record: ConnectionRecord): void {
    const s = this.stats;
    if (record.protocol === 'http') s.requests++;
    else s.tunnels++;
    if (record.error !== undefined) s.errors++;
    s.bytesIn += record.bytesIn;
    s.bytesOut += record.bytesOut;
    s.finished++;
    s.durationMs += record.durationMs ?? 0;
    const statusClass = record.status === undefined ? 'none' : record.protocol === 'socks5' ? `socks:${record.status}` : `${Math.floor(record.status / 100)}xx`;
    s.byStatusClass[statusClass] = (s.byStatusClass[statusClass] ?? 0) + 1;
    s.byMethod[record.method] = (s.byMethod[record.method] ?? 0) + 1;
    const backend = record.backend ?? 'none';
    s.byBackend[backend] = (s.byBackend[backend] ?? 0) + 1;
    const host = s.hosts.has(record.host) || s.hosts.size < MAX_HOSTS ? record.host : '(other)';
    s.hosts.set(host, (s.hosts.get(host) ?? 0) + 1);
  }

  private openWriter(): TrafficLogWriter {
    const toFile = this.spec.output === 'file' || this.spec.output === 'both';
    const toStdout = this.spec.output === 'stdout' || this.spec.output === 'both';
    return new TrafficLogWriter(toFile ? this.spec.logFile : null, toStdout, this.warn);
  }
}

/** What the engine must keep for these settings (null: metadata only, the cheap path). */
function captureFor(spec: DebugSpec): CaptureSettings | null {
  return spec.logHeaders || spec.bodyBytes > 0 ? { headers: spec.logHeaders, bodyBytes: spec.bodyBytes } : null;
}

function emptyStats() {
  return {
    since: null as number | null,
    requests: 0,
    tunnels: 0,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
    finished: 0,
    durationMs: 0,
    byStatusClass: {} as Record<string, number>,
    byMethod: {} as Record<string, number>,
    byBackend: {} as Record<string, number>,
    hosts: new Map<string, number>(),
  };
}

/** Approximate memory of a kept record (strings dominate). */
function sizeOf(record: ConnectionRecord): number {
  let bytes = 400 + record.host.length + (record.path?.length ?? 0);
  for (const list of [record.requestHeaders, record.responseHeaders]) if (list) for (const item of list) bytes += item.length + 16;
  bytes += (record.requestBody?.text.length ?? 0) + (record.responseBody?.text.length ?? 0);
  return bytes;
}
