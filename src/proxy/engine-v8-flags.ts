/**
 * V8 settings of the engine worker processes, chosen for their footprint without costing speed
 * (measured with the bench, see README "Performance"):
 * - `--max-semi-space-size=4`: the young generation, where each connection's short-lived objects
 *   die, may grow to 2 × 4 MB instead of V8's 2 × 16 MB. A busy engine grows it to the most it may
 *   and keeps it after the load has passed, so this bounds what every worker holds when idle again.
 *   A scavenge costs what survives, not the space's size, so smaller spaces only scavenge more
 *   often; at 4 MB the bench's CPU per connection and per request did not move.
 * - `--expose-gc`: a worker runs one full collection when its traffic goes quiet after a burst
 *   (see collectWhenQuiet), so an idle worker gives back what the burst left behind.
 * No heap limit for the old generation: tunnels are held there, and a limit would turn a large
 * but legitimate number of them into an out-of-memory crash. Not `--jitless` or `--lite-mode`:
 * they save memory by giving up the optimising compiler, which the per-request path needs.
 * They go before the daemon's own node flags in a worker's command line, and the later of two
 * settings counts: one given to node explicitly (`node --max-semi-space-size=8 …`) wins.
 */
export const ENGINE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--expose-gc'];

