import { setFlagsFromString } from 'node:v8';

/*
 * The young generation (V8's new space) of the command's own process. V8 doubles it under
 * allocation up to 2 × 16 MB and never gives it back, and loading the CLI and the daemon's code
 * alone makes it grow to the most: some 30 MB the daemon then holds for good, idle. The flag that
 * bounds it (--max-semi-space-size) can only be given on node's command line, so the bins set
 * the growth factor instead, before they load anything: the new space stays at V8's initial
 * 2 × 1 MB. The daemon's control work allocates little; an engine serving traffic in this
 * process (workers: 1) lets it grow again (see letYoungGenerationGrow).
 */

/** Keeps the new space at its initial size: called by the bins before any other module loads. */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** V8's default growth again: for a process that serves traffic itself (its scavenges stay rare). */
export function letYoungGenerationGrow(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}
