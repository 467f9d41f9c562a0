import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** Unwritten bytes beyond which lines are dropped (and counted) rather than slowing the proxy. */
const MAX_BACKLOG = 8 * 1024 * 1024;
/**
 * How long lines wait to be written together: each write is a trip to the thread pool and a
 * system call, too dear to pay per request at proxy rates.
 */
const FLUSH_MS = 50;
/** Lines that are written at once, without waiting for the timer. */
const MAX_PENDING = 4096;

/**
 * Appends debug-log lines to a file and/or stdout without ever blocking: lines are batched
 * (every FLUSH_MS), each batch is one write of whole lines (so several processes can append to
 * one file without cutting each other's lines), written asynchronously, and dropped (counted)
 * when the disk or terminal cannot keep up.
 */
export class TrafficLogWriter {
  private file: WriteStream | null = null;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Lines dropped because the output could not keep up. */
  dropped = 0;

  constructor(
    private readonly path: string | null,
    private readonly stdout: boolean,
    private readonly onError: (message: string) => void,
  ) {}

  /** Queues lines for the next write. */
  write(lines: string[]): void {
    if (lines.length === 0) return;
    for (const line of lines) this.pending.push(line);
    if (this.pending.length >= MAX_PENDING) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    this.flush();
    const file = this.file;
    this.file = null;
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    const count = this.pending.length;
    this.pending = [];
    if (this.path !== null) this.append(this.openFile(), text, count);
    if (this.stdout) this.append(process.stdout, text, count);
  }

  private append(stream: NodeJS.WritableStream & { writableLength: number }, text: string, count: number): void {
    if (stream.writableLength > MAX_BACKLOG) this.dropped += count;
    else stream.write(text);
  }

  private openFile(): WriteStream {
    if (this.file) return this.file;
    mkdirSync(dirname(this.path!), { recursive: true });
    // The log can hold request details: only its owner may read it.
    const file = createWriteStream(this.path!, { flags: 'a', mode: 0o600 });
    file.on('error', (error) => {
      this.onError(`debug log ${this.path}: ${error.message}`);
      if (this.file === file) this.file = null;
    });
    this.file = file;
    return file;
  }
}
