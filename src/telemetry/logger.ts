/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A line logger: `2026-01-15T10:30:45.123Z info message key=value`, to a writable (stdout or the log file). */
export class Logger {
  constructor(
    private level: LogLevel,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  /** Changes the level (a reload may). */
  setLevel(level: LogLevel): void {
    this.level = level;
  }

  /** Logs at debug level. */
  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }

  /** Logs at info level. */
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }

  /** Logs at warn level. */
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }

  /** Logs at error level. */
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.level]) return;
    let line = `${new Date().toISOString()} ${level} ${message}`;
    for (const [key, value] of Object.entries(fields ?? {})) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    }
    this.out.write(`${line}\n`);
  }
}
