import { close, open, write } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ConnectionRecord } from '../protocol/connection-record.js';
import type { AccessLogSettings } from '../policy/policy-settings.js';
import { formatAccessLine } from './access-log-format.js';

const openFile = promisify(open);
const closeFile = promisify(close);
const writeFd = promisify(write);

const FLUSH_MS = 100;
const FLUSH_BYTES = 64 * 1024;
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
const STDOUT = 1;

/**
 * The access log (`access_log:`, README "Traffic policy"). Lines are formatted when a connection ends and
 * written in batches by the libuv thread pool, one write at a time and in order, so the proxy
 * never waits for the disk or a slow stdout reader; if the output falls more than 8 MiB behind,
 * lines are dropped and counted rather than held without bound. `reopen` (SIGUSR1, after
 * logrotate moved the file) switches to a fresh file at the same path without losing lines.
 */
export class AccessLog {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private fd: number | null = null;
  private dropped = 0;

  private constructor(
    private settings: AccessLogSettings,
    private path: string | null,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** Opens the log for `settings` (file paths already absolute); rejects when the file cannot be opened. */
  static async open(settings: AccessLogSettings, path: string | null, onProblem: (message: string) => void): Promise<AccessLog> {
    const log = new AccessLog(settings, path, onProblem);
    if (log.toFile()) log.fd = await openLog(path!);
    return log;
  }

  /** Whether records should be written at all. */
  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Queues one record's line. */
  write(record: ConnectionRecord): void {
    if (!this.settings.enabled) return;
    const line = `${formatAccessLine(record, this.settings)}\n`;
    if (this.pendingBytes + line.length > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flushSoon(0);
    else this.flushSoon(FLUSH_MS);
  }

  /** Applies new settings (a reload); a changed file path opens the new file. */
  async configure(settings: AccessLogSettings, path: string | null): Promise<void> {
    const wasFile = this.toFile() ? this.path : null;
    this.settings = settings;
    this.path = path;
    const nowFile = this.toFile() ? path : null;
    if (wasFile !== nowFile) await this.enqueue(() => this.swapFile(nowFile));
  }

  /** Closes and reopens the file at the same path (after log rotation moved it away). */
  reopen(): Promise<void> {
    return this.enqueue(() => this.swapFile(this.toFile() ? this.path : null));
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.enqueue(() => this.drain());
    await this.enqueue(() => this.swapFile(null));
  }

  private toFile(): boolean {
    return this.settings.enabled && this.settings.output !== 'stdout' && this.path !== null;
  }

  private flushSoon(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.enqueue(() => this.drain());
    }, delayMs);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step).catch((error: Error) => this.onProblem(`access log: ${error.message}`));
    return this.chain;
  }

  private async drain(): Promise<void> {
    if (this.dropped > 0) {
      this.onProblem(`access log: output is too slow; ${this.dropped} line(s) dropped`);
      this.dropped = 0;
    }
    if (this.pending.length === 0) return;
    const batch = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    const output = this.settings.output;
    if (output !== 'file') await writeAll(STDOUT, batch);
    if (output !== 'stdout' && this.fd !== null) await writeAll(this.fd, batch);
  }

  private async swapFile(path: string | null): Promise<void> {
    await this.drain();
    const old = this.fd;
    this.fd = path === null ? null : await openLog(path);
    if (old !== null) await closeFile(old);
  }
}

async function openLog(path: string): Promise<number> {
  try {
    // Missing directories (the spec's /var/log/proxy/) are created, like a log rotator would expect.
    await mkdir(dirname(path), { recursive: true, mode: 0o750 });
    return await openFile(path, 'a', 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot open the access log ${path}: ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`, { cause: error });
  }
}

async function writeAll(fd: number, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      const { bytesWritten } = await writeFd(fd, buffer, offset, buffer.length - offset);
      offset += bytesWritten;
    } catch (error) {
      // A non-blocking stdout (a terminal or pipe) that is full: wait for the reader.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await sleep(10);
    }
  }
}
