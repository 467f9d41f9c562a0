import { EventEmitter } from 'node:events';
import type { DebugSpec } from '../config/model.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { Engine } from '../engine/engine-api.js';
import type { TrafficEvent } from './debug-request.js';
import { mergeCounts, type TrafficStats } from './traffic-stats.js';

/**
 * The traffic debugger as the daemon and the control API see it (README "Watching it"). The work on each
 * record is done by a TrafficRecorder inside every engine process, where the record is; this
 * side holds the settings, fans requests out and merges the answers. Live `traffic` events are
 * relayed from the engine only while something here listens for them, so that unwatched records
 * never leave their engine process.
 */
export class TrafficDebugger extends EventEmitter<{ traffic: [TrafficEvent] }> {
  private spec: DebugSpec;
  private following = false;
  private readonly relay = (event: TrafficEvent): void => void this.emit('traffic', event);

  constructor(
    private readonly engine: Engine,
    spec: DebugSpec,
  ) {
    super();
    this.spec = spec;
    const plain = this as EventEmitter;
    plain.on('newListener', (event: string) => {
      if (event === 'traffic' && this.listenerCount('traffic') === 0) this.engine.on('traffic', this.relay);
    });
    plain.on('removeListener', (event: string) => {
      if (event === 'traffic' && this.listenerCount('traffic') === 0) this.engine.off('traffic', this.relay);
    });
  }

  /** Whether records are being followed now. */
  get enabled(): boolean {
    return this.following;
  }

  /** The settings in force. */
  get settings(): DebugSpec {
    return this.spec;
  }

  /** Starts following records in every engine process. */
  async enable(): Promise<void> {
    if (this.following) return;
    this.following = true;
    await this.push();
  }

  /** Stops following records; what was kept stays available. */
  async disable(): Promise<void> {
    if (!this.following) return;
    this.following = false;
    await this.push();
  }

  /** Applies reloaded settings; `debug on|off` given at run time holds unless the file's `enabled` changed. */
  async configure(spec: DebugSpec): Promise<void> {
    if (spec.enabled !== this.spec.enabled) this.following = spec.enabled;
    this.spec = spec;
    await this.push();
  }

  /** Kept records, newest first across the engine processes, optionally only those whose line mentions `text`; never more than `history`. */
  async list(limit = 100, text?: string): Promise<ConnectionRecord[]> {
    const cut = Math.min(limit, this.spec.history);
    const parts = await this.engine.debug({ op: 'list', limit: cut, text });
    return parts
      .flat()
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, cut);
  }

  /** One kept record by id. */
  async get(id: string): Promise<ConnectionRecord | undefined> {
    const parts = await this.engine.debug({ op: 'get', id });
    return parts.find((record) => record !== null) ?? undefined;
  }

  /** Forgets every kept record and resets the stats, in every engine process. */
  async clear(): Promise<void> {
    await this.engine.debug({ op: 'clear' });
  }

  /** Running statistics over the records seen since enabling (or the last clear), summed over the engine processes. */
  async summary(): Promise<TrafficStats> {
    return mergeCounts(await this.engine.debug({ op: 'counts' }), this.following, this.spec.history);
  }

  private async push(): Promise<void> {
    await this.engine.debug({ op: 'set', state: { spec: this.spec, on: this.following } });
  }
}
