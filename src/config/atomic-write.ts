import { closeSync, constants, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ProxyError } from '../errors.js';

/**
 * Replaces a file's content atomically: a temp file in the same directory, fsync, rename over the
 * original, fsync the directory. Readers see the old or the new file, never a torn one; the
 * original's mode is kept, unless `fixedMode` says which one the file must have.
 */
export function writeFileAtomic(path: string, content: string, fixedMode?: number): void {
  let mode = fixedMode ?? 0o644;
  try {
    if (fixedMode === undefined) mode = statSync(path).mode & 0o777;
  } catch {
    // A new file gets the default mode.
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  const dir = openSync(dirname(path), constants.O_RDONLY);
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

const LOCK_WAIT_MS = 15_000;
const STALE_LOCK_MS = 30_000;

/**
 * Runs `work` while holding `<path>.lock` (created with O_EXCL), so concurrent editors of one file
 * (several CLI processes, the daemon) apply their edits one after another. A lock left by a dead
 * process, or older than 30 s, is taken over.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T> | T): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let delay = 5;
  for (;;) {
    try {
      const fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale(lock)) {
        try {
          unlinkSync(lock);
        } catch {
          // Someone else removed it first.
        }
        continue;
      }
      if (Date.now() > deadline) throw new ProxyError('LOCKED', `${path} is being edited by another process (lock ${lock})`);
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // Already gone.
    }
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) return true;
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
