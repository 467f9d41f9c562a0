import type { Worker } from 'node:cluster';
import { AttemptPool } from '../auth/attempt-pool.js';
import { authSettings } from '../auth/auth-settings.js';
import type { ConfigSnapshot } from '../config/model.js';
import { parseDuration } from '../config/value-parsers.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** What the primary's failed-login count uses of the clustered engine. */
export interface ClusterAttemptsParts {
  workers(): Iterable<Worker>;
  /** Sends unless the worker is gone. */
  tell(worker: Worker, message: ToWorker): void;
  /** The snapshot in force now. */
  snapshot(): ConfigSnapshot;
}

/** The primary's side of failed-login lockouts over engine workers (see AttemptPool), spoken over the worker channel. */
export class ClusterAttempts {
  private readonly pool: AttemptPool<Worker>;

  constructor(private readonly parts: ClusterAttemptsParts) {
    this.pool = new AttemptPool({
      watch: (address, until, locked) => {
        for (const worker of parts.workers()) parts.tell(worker, { type: 'auth-watch', address, until, locked });
      },
      settings: () => {
        const { max, window } = authSettings(parts.snapshot()).failed_attempts;
        return { max, windowMs: parseDuration(window)! };
      },
    });
  }

  /** Takes a worker's failed-login message; false for any other message. */
  handle(message: FromWorker, worker: Worker): boolean {
    if (message.type === 'auth-ask') {
      const until = this.pool.ask(worker, message.address);
      if (typeof until === 'number') this.answer(worker, message.id, until);
      else void until.then((end) => this.answer(worker, message.id, end));
    } else if (message.type === 'auth-failed') this.answer(worker, message.id, this.pool.failed(worker, message.address, message.leased));
    else if (message.type === 'auth-done') this.pool.done(worker, message.address);
    else return false;
    return true;
  }

  /** A worker exited: its attempts in flight end. */
  lost(worker: Worker): void {
    this.pool.lost(worker);
  }

  /** Clients with failed logins on record (a new worker is told them before it serves). */
  watched(): { address: string; until: number; locked: boolean }[] {
    return this.pool.watched();
  }

  private answer(worker: Worker, id: number, until: number): void {
    this.parts.tell(worker, { type: 'auth-answer', id, until });
  }
}
