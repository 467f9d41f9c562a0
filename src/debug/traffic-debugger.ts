import { EventEmitter } from 'node:events';
import type { DebugSpec } from '../config/model.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { Engine } from '../engine/engine-api.js';
import type { TrafficEvent } from './debug-request.js';
import { mergeCounts, type TrafficStats } from './traffic-stats.js';
import { ProxyError } from '../errors.js';
import { ensureCa } from '../mitm/ca-store.js';
import type { Role } from '../role.js';

/** Where the debugger finds (or makes) the interception CA, and whom it tells when it made one. */
export interface CaPlace {
  stateDir: string;
  role: Role;
  /** Told once when the CA was made on first use. */
  notice(message: string): void;
}

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
  /** The file's `debug.mitm.enabled`, to tell a changed file from a reload that leaves a live `debug mitm on|off` alone. */
  private fileMitm: boolean;
  private readonly relay = (event: TrafficEvent): void => void this.emit('traffic', event);

  constructor(
    private readonly engine: Engine,
    spec: DebugSpec,
    private readonly caPlace?: CaPlace,
  ) {
    super();
    this.spec = spec;
    this.fileMitm = spec.mitm.enabled;
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

  /** Applies the file's settings at daemon start: follows records when `debug.enabled`, intercepts when `debug.mitm.enabled`. */
  async start(): Promise<void> {
    this.following = this.spec.enabled;
    if (this.following || this.spec.mitm.enabled) await this.push();
  }

  /** `debug mitm on|off`: starts or stops HTTPS interception in every engine process (the CA is made on first use). */
  async setMitm(on: boolean): Promise<void> {
    if (on && this.caPlace?.role === 'server' && !this.spec.mitm.configured) {
      throw new ProxyError('MITM_NOT_CONFIGURED', 'the server role intercepts HTTPS only when its config file has a debug.mitm section: add "debug: {mitm: {enabled: true}}" and reload');
    }
    this.spec = { ...this.spec, mitm: { ...this.spec.mitm, enabled: on } };
    await this.push();
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
    const mitmOn = spec.mitm.enabled !== this.fileMitm ? spec.mitm.enabled : this.spec.mitm.enabled;
    this.fileMitm = spec.mitm.enabled;
    this.spec = { ...spec, mitm: { ...spec.mitm, enabled: mitmOn } };
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
    const ca = this.spec.mitm.enabled ? await this.ca() : undefined;
    await this.engine.debug({ op: 'set', state: { spec: this.spec, on: this.following, ...(ca ? { ca } : {}) } });
  }

  private async ca(): Promise<Awaited<ReturnType<typeof ensureCa>>['ca'] | undefined> {
    if (!this.caPlace) return undefined;
    const { ca, created } = await ensureCa(this.caPlace.stateDir);
    if (created) this.caPlace.notice(`made the interception CA ${ca.certFile}: clients must trust it ("ca install-help" shows how)`);
    return ca;
  }
}
