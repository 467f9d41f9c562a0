import type { ServerResponse } from 'node:http';
import type { BackendHealthEvent } from '../health/health-state.js';
import type { ConnectionRecord } from '../proxy/connection-record.js';
import type { Engine } from '../proxy/engine.js';

/** One event of the live stream (`GET /api/events`, NDJSON: one JSON object per line). */
export type LiveEvent =
  | { type: 'connection:start'; time: number; record: ConnectionRecord }
  | { type: 'connection:end'; time: number; record: ConnectionRecord }
  | { type: 'reload'; time: number; ok: boolean; version?: string; errors?: string[]; restartRequired?: string[] }
  | { type: 'warning'; time: number; message: string }
  | ({ type: 'backend:health'; time: number } & BackendHealthEvent);

const MAX_BUFFERED = 1024 * 1024;

/**
 * Fans live events out to streaming subscribers. It listens to the engine's per-connection
 * events only while someone is subscribed, so an unwatched proxy pays nothing for them; a
 * subscriber that cannot keep up is dropped rather than buffered without bound.
 */
export class EventHub {
  private readonly subscribers = new Set<ServerResponse>();
  private engine: Engine | null = null;
  private readonly onStart = (record: ConnectionRecord): void => this.publish({ type: 'connection:start', time: Date.now(), record });
  private readonly onEnd = (record: ConnectionRecord): void => this.publish({ type: 'connection:end', time: Date.now(), record });

  /** Follows a (new) engine's events. */
  attach(engine: Engine): void {
    this.detachEngine();
    this.engine = engine;
    if (this.subscribers.size > 0) this.attachEngine();
  }

  /** Streams every later event to this response until the client goes away. */
  subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.write(`${JSON.stringify({ type: 'hello', time: Date.now() })}\n`);
    this.subscribers.add(res);
    if (this.subscribers.size === 1) this.attachEngine();
    res.once('close', () => {
      this.subscribers.delete(res);
      if (this.subscribers.size === 0) this.detachEngine();
    });
  }

  /** Sends an event to every subscriber. */
  publish(event: LiveEvent): void {
    if (this.subscribers.size === 0) return;
    const line = `${JSON.stringify(event)}\n`;
    for (const res of this.subscribers) {
      if (res.writableLength > MAX_BUFFERED) res.destroy();
      else res.write(line);
    }
  }

  /** Ends every stream. */
  close(): void {
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
    this.detachEngine();
  }

  private attachEngine(): void {
    this.engine?.on('connection:start', this.onStart);
    this.engine?.on('connection:end', this.onEnd);
  }

  private detachEngine(): void {
    this.engine?.off('connection:start', this.onStart);
    this.engine?.off('connection:end', this.onEnd);
  }
}
