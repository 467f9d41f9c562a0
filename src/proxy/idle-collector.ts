import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { releaseSpareCopies } from '../backends/read-forwarding.js';
import { returnFreedMemory } from './native-memory.js';

/** How long without a new, or a closed, connection or request counts as quiet. */
const QUIET_MS = 5_000;
/** How often the activity count is looked at: a collection runs QUIET_MS to QUIET_MS + TICK_MS after the last traffic. */
const TICK_MS = 1_000;

/**
 * Runs full garbage collections once traffic has been quiet for QUIET_MS after a burst (and
 * once after start, for the garbage of loading). V8 collects its old generation only when it
 * grows, and gives memory back only after such a collection: an engine process that served a
 * burst and went quiet otherwise keeps the burst's heap, tens of megabytes, while idle. The
 * collection runs while nothing new arrives, so no request waits on it, and at most once per
 * quiet spell (a long download in an open tunnel starts no new record: it gets one, not one
 * every QUIET_MS). The relays' spare copy buffers go with it, and then `release` hands what the
 * process freed back to the system (returnFreedMemory: glibc keeps it otherwise; the buffers the
 * collections freed are among it). `collect` is the full collection:
 * by default the global `gc` of `--expose-gc`, which engine workers are started with (see
 * ENGINE_V8_FLAGS; without it this does nothing), else runtimeGc()'s. `activity` is a count
 * that moves with every connection and request, opened or closed: thousands of idle tunnels
 * closing at once are the end of a spell too, or their memory would stay until the next one.
 */
export function collectWhenQuiet(activity: () => number, collect: (() => void) | undefined = globalThis.gc, release: () => unknown = returnFreedMemory): void {
  if (!collect) return;
  let seen = activity();
  let quietFor = 0;
  let dirty = true;
  setInterval(() => {
    const now = activity();
    if (now !== seen) {
      seen = now;
      quietFor = 0;
      dirty = true;
      return;
    }
    quietFor += TICK_MS;
    if (!dirty || quietFor < QUIET_MS) return;
    dirty = false;
    releaseSpareCopies();
    // Twice: the pages the first collection empties stay committed until they are swept, which
    // an idle process does at its next collection (V8's own comes 10 to 20 s later): measured in
    // an engine worker after a burst, 49 MB committed, 30 after the first, 14 after the second.
    collect();
    collect();
    release();
  }, TICK_MS).unref();
}

/**
 * A full collection for a process started without `--expose-gc` (the daemon: its bins cannot
 * pass node flags): with the flag set at run time, V8 gives every new context a `gc` function.
 */
export function runtimeGc(): () => void {
  if (globalThis.gc) return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
