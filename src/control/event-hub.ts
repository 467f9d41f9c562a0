import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { TrafficEvent } from '../debug/debug-request.js';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { Engine } from '../engine/engine-api.js';
import type { LimitHit } from '../policy/limit-hit.js';
import type { StreamLine } from './answers/records.js';

/** One event of the live stream (`GET /api/events`, NDJSON: one JSON object per line). */
export type LiveEvent = Exclude<StreamLine, { type: 'hello' }>;

const MAX_BUFFERED = 1024 * 1024;

/** Where the traffic debugger's events come from. */
export type TrafficSource = Pick<EventEmitter<{ traffic: [TrafficEvent] }>, 'on' | 'off'>;

/**
 * Fans live events out to streaming subscribers. It listens to the engine's per-connection
 * events and to the debugger's records only while someone is subscribed to them, so an
 * unwatched proxy pays nothing for them; a subscriber that cannot keep up is dropped rather
 * than buffered without bound.
 */
export class EventHub {
  private readonly subscribers = new Map<ServerResponse, ReadonlySet<string> | null>();
  /** Subscribers waiting for the engine processes to send what they asked for (no events yet). */
  private readonly joining = new Map<ServerResponse, ReadonlySet<string> | null>();
  private engine: Engine | null = null;
  private traffic: TrafficSource | null = null;
  private followingEngine = false;
  private followingTraffic = false;
  private followingThroughput = false;
  private readonly onStart = (record: ConnectionRecord): void => this.publish({ type: 'connection:start', time: Date.now(), record: metadataOnly(record) });
  private readonly onEnd = (record: ConnectionRecord): void => this.publish({ type: 'connection:end', time: Date.now(), record: metadataOnly(record) });
  private readonly onHit = (hit: LimitHit): void => this.publish({ type: 'limit:hit', time: hit.time, hit });
  private readonly onThroughput = (bytes: number): void => this.publish({ type: 'throughput', time: Date.now(), bytes });
  private readonly onTraffic = ({ phase, record }: TrafficEvent): void => this.publish({ type: 'traffic', time: Date.now(), phase, record });

  /** Follows an engine's events and the traffic debugger's, whenever a subscriber wants them. */
  attach(engine: Engine, traffic: TrafficSource): void {
    this.follow(false);
    this.engine = engine;
    this.traffic = traffic;
    this.follow();
  }

  /**
   * Streams every later event (or only those of the given types) to this response until the client
   * goes away. Its `hello` line comes once every engine process sends what it asked for, so
   * nothing that happens after `hello` is missed.
   */
  subscribe(res: ServerResponse, types: ReadonlySet<LiveEvent['type']> | null = null): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    this.joining.set(res, types);
    this.follow();
    res.once('close', () => {
      this.joining.delete(res);
      this.subscribers.delete(res);
      this.follow();
    });
    void (this.engine?.eventsReady?.() ?? Promise.resolve()).then(() => {
      if (!this.joining.delete(res)) return;
      res.write(`${JSON.stringify({ type: 'hello', time: Date.now() })}\n`);
      this.subscribers.set(res, types);
    });
  }

  /** Sends an event to every subscriber. */
  publish(event: LiveEvent): void {
    if (this.subscribers.size === 0) return;
    let line: string | null = null;
    for (const [res, types] of this.subscribers) {
      if (types !== null && !types.has(event.type)) continue;
      line ??= `${JSON.stringify(event)}\n`;
      if (res.writableLength > MAX_BUFFERED) res.destroy();
      else res.write(line);
    }
  }

  /** Ends every stream. */
  close(): void {
    for (const res of [...this.subscribers.keys(), ...this.joining.keys()]) res.end();
    this.subscribers.clear();
    this.joining.clear();
    this.follow();
  }

  /** Listens to exactly the sources some subscriber wants now (to none when `active` is false). */
  private follow(active = true): void {
    const types = active ? [...this.subscribers.values(), ...this.joining.values()] : [];
    const engine = types.some(wantsEngine);
    const traffic = types.some((t) => t === null || t.has('traffic'));
    const throughput = types.some((t) => t === null || t.has('throughput'));
    if (throughput !== this.followingThroughput) {
      // The engine's per-second byte count costs a timer: asked for only while someone wants it.
      if (throughput) this.engine?.on('throughput', this.onThroughput);
      else this.engine?.off('throughput', this.onThroughput);
      this.followingThroughput = throughput;
    }
    if (engine !== this.followingEngine) {
      if (engine) {
        this.engine?.on('connection:start', this.onStart);
        this.engine?.on('connection:end', this.onEnd);
        this.engine?.on('limit:hit', this.onHit);
      } else {
        this.engine?.off('connection:start', this.onStart);
        this.engine?.off('connection:end', this.onEnd);
        this.engine?.off('limit:hit', this.onHit);
      }
      this.followingEngine = engine;
    }
    if (traffic !== this.followingTraffic) {
      if (traffic) this.traffic?.on('traffic', this.onTraffic);
      else this.traffic?.off('traffic', this.onTraffic);
      this.followingTraffic = traffic;
    }
  }
}

/** A record without captured headers and bodies: those reach subscribers only masked, as traffic events. */
function metadataOnly(record: ConnectionRecord): ConnectionRecord {
  if (!record.requestHeaders && !record.responseHeaders && !record.requestBody && !record.responseBody) return record;
  return { ...record, requestHeaders: undefined, responseHeaders: undefined, requestBody: undefined, responseBody: undefined };
}

/** Whether a subscription includes events the engine emits (connections, limit hits). */
function wantsEngine(types: ReadonlySet<string> | null): boolean {
  return types === null || types.has('connection:start') || types.has('connection:end') || types.has('limit:hit');
}
