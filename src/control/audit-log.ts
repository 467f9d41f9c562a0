import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEntry } from './answers/audit.js';

/** Bytes read from the end of the file for `audit tail`. */
const TAIL_BYTES = 1024 * 1024;

/**
 * The audit trail: one JSON line per change and per refusal of the control API, in a 0600 file
 * (reopened on SIGUSR1 after rotation). Changes are rare, so each line is written at once.
 */
export class AuditLog {
  private fd: number | null = null;

  constructor(
    private path: string,
    private readonly onLine: (entry: AuditEntry) => void,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** Where it writes. */
  get file(): string {
    return this.path;
  }

  /** Opens the file (created 0600 with its directory). */
  open(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    this.fd = openSync(this.path, 'a', 0o600);
    // A file a previous run or a rotator made wider is narrowed: it names who did what.
    fchmodSync(this.fd, 0o600);
  }

  /** Writes to this file from now on (opened if it is not yet; a reload may name another). */
  moveTo(path: string): void {
    if (path === this.path && this.fd !== null) return;
    this.close();
    this.path = path;
    this.open();
  }

  /** Closes and reopens the same path (after a rotator moved the file away). */
  reopen(): void {
    this.close();
    this.open();
  }

  /** Records one entry and publishes it. */
  write(entry: AuditEntry): void {
    try {
      if (this.fd !== null) writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    } catch (error) {
      this.onProblem(`audit log ${this.path}: ${(error as Error).message}`);
    }
    this.onLine(entry);
  }

  /** The last `count` entries, oldest first. */
  tail(count: number): AuditEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    if (text.length > TAIL_BYTES) text = text.slice(text.indexOf('\n', text.length - TAIL_BYTES) + 1);
    return text
      .split('\n')
      .filter((line) => line !== '')
      .slice(-count)
      .map((line) => JSON.parse(line) as AuditEntry);
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
