import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon `npm run build` makes from native/malloc-trim.c (Linux, with a C compiler; see scripts/build-native.mjs). */
const ADDON = fileURLToPath(new URL('../../native/malloc-trim.node', import.meta.url));

/** The loaded addon; null once loading failed (not built, or not loadable here). */
let addon: { trim(): boolean } | null | undefined;

/**
 * Hands the memory this process freed back to the system (glibc's malloc_trim): glibc keeps
 * freed heap memory for the process's next allocations and returns only what is free at the top
 * of its heap, so the socket handles and buffers of a burst of connections, freed between what
 * lives on, stay resident while the process idles. True when some went back; false when none
 * did, or without the addon (then this does nothing, and tries no more).
 */
export function returnFreedMemory(): boolean {
  if (addon === undefined) addon = loadAddon();
  return addon?.trim() ?? false;
}

function loadAddon(): { trim(): boolean } | null {
  try {
    return createRequire(import.meta.url)(ADDON) as { trim(): boolean };
  } catch {
    return null;
  }
}
