import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { releaseSpareCopies } from '../backends/read-forwarding.js';
import { returnFreedMemory } from './native-memory.js';

/** How long without a new, or a closed, connection or request counts as quiet. */
const QUIET_MS = 6_000;
/** How soon after a burst of BURST or more connections and requests its garbage goes (see collectWhenQuiet). */
const SOON_MS = 1_000;
/** How far the activity count must have moved since the last collections for SOON_MS to apply. */
const BURST = 1_000;
/** How often the activity count is looked at while a collection is due, and once none is. */
const DUE_TICK_MS = 250;
const IDLE_TICK_MS = 1_000;

/** What collectWhenQuiet watches in its process, and how it collects. */
export interface QuietWatch {
  /**
   * A count that moves with every connection and request, opened or closed: thousands of idle
   * tunnels closing at once are the end of a spell too, or their memory would stay until the next one.
   */
  activity(): number;
  /** Whether the first collection compacts the heap: for a process that serves no traffic itself (see below). */
  compact?: boolean;
  /** One full collection, compacting the heap when `compact`: by default fullCollection(globalThis.gc). */
  collect?: (compact: boolean) => void;
  /** Hands freed memory back to the system after the collections: by default returnFreedMemory. */
  release?: () => unknown;
}

/**
 * Runs full garbage collections once traffic has been quiet for QUIET_MS (and once after start,
 * for the garbage of loading), and already SOON_MS after a burst of BURST or more connections and
 * requests. V8 collects its old generation only when it grows, and gives memory back only after
 * such a collection: an engine process that served a burst and went quiet otherwise keeps the
 * burst's heap, tens of megabytes, while idle. The collections run while nothing new arrives, so
 * no request waits on them, and at most twice per quiet spell (a long download in an open tunnel
 * starts no new record: it gets them once, not every QUIET_MS). The early ones take a burst's
 * garbage while the burst's tunnels are still new: 2 s after the last of 9,000 CONNECT tunnels
 * opened, the three processes held 162 MB, against 189-197 when the first collection came after
 * 5 s. The later ones still give more: collections 1 s after a burst alone left 160-163 MB with
 * those tunnels open and 114-115 once they closed, against 146-149 and 106-107 with one 5 s or
 * more after it. Smaller spells wait for QUIET_MS: traffic that pauses for a second now and then
 * (a browser's) would otherwise be collected at every pause. The relays' spare copy buffers go
 * with the collections, and then `release` hands what the process freed back to the system
 * (glibc keeps it otherwise; the buffers the collections freed are among it). The activity count
 * is read four times a second while a collection is due, once a second when none is.
 *
 * With `compact`, the first collection also compacts: what lives is moved out of the pages that
 * start-up or a burst left half used (V8 compacts only those it finds mostly empty), so they can
 * be given back. The daemon of engine workers does, and holds 2-3 MB less (PSS) idle, for
 * collections of 87-92 ms against 34-50 while nothing waits on them. Processes that serve traffic
 * do not: the holes of their half-used pages take in the objects of the next burst, and with
 * engine workers that compacted when idle, tunnels opened later took more than they saved (9,000
 * SOCKS5 tunnels 197 MB in all against 184, for 4 MB saved idle); and a tunnel carrying data
 * would wait for the longer collection.
 * Without a collection (`collect` left out in a process without `--expose-gc`) this does nothing.
 */
export function collectWhenQuiet(watch: QuietWatch): void {
  const collect = watch.collect ?? (globalThis.gc ? fullCollection(globalThis.gc) : undefined);
  if (!collect) return;
  const release = watch.release ?? returnFreedMemory;
  let seen = watch.activity();
  let collectedAt = seen;
  const collectAll = (): void => {
    releaseSpareCopies();
    // Twice: the pages the first collection empties stay committed until they are swept, which
    // an idle process does at its next collection (V8's own comes 10 to 20 s later): measured in
    // an engine worker after a burst, 49 MB committed, 30 after the first, 14 after the second.
    collect(watch.compact === true);
    collect(false);
    release();
    collectedAt = seen;
  };
  let quietFor = 0;
  // 'soon': traffic since the last collections; 'quiet': the early ones done or not needed; 'idle': all done.
  let due: 'soon' | 'quiet' | 'idle' = 'soon';
  const tick = (waited: number): void => {
    const now = watch.activity();
    if (now !== seen) {
      [seen, quietFor, due] = [now, 0, 'soon'];
    } else {
      quietFor += waited;
      if (due === 'soon' && quietFor >= SOON_MS) {
        due = 'quiet';
        if (seen - collectedAt >= BURST) collectAll();
      } else if (due === 'quiet' && quietFor >= QUIET_MS) {
        due = 'idle';
        collectAll();
      }
    }
    const next = due === 'idle' ? IDLE_TICK_MS : DUE_TICK_MS;
    setTimeout(() => tick(next), next).unref();
  };
  setTimeout(() => tick(DUE_TICK_MS), DUE_TICK_MS).unref();
}

/**
 * One full collection by `gc` (the global of `--expose-gc`, or runtimeGc()'s), compacting the
 * whole heap when asked: V8 compacts only the pages its heuristics pick, and a forced collection
 * takes no option for it on Node 20, so the flag is set for this one collection only.
 */
export function fullCollection(gc: () => void): (compact: boolean) => void {
  return (compact) => {
    if (!compact) return gc();
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
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
