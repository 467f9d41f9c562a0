/**
 * glibc malloc setting of the engine worker processes (native memory: sockets' read buffers, TLS,
 * the HTTP parser), unless the daemon's environment sets it itself: `MALLOC_ARENA_MAX=2`. By
 * default every thread that allocates (V8's and libuv's helpers) may get an arena of its own, up
 * to eight per core, and each keeps what was freed in it: two arenas took idle engine processes
 * after a load from about 95 MB to 87 MB (all three, PSS) at no cost in CPU per connection. A
 * lower trim threshold (MALLOC_TRIM_THRESHOLD_) saved a little more but cost 12 % CPU per new
 * connection, so it is left to glibc.
 */
function mallocEnv(): Record<string, string> {
  return { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
}

/**
 * What engine workers add to the daemon's environment. On the shared sockets every worker polls
 * the same listening socket, and libuv's accept loop takes every connection waiting there: the
 * worker that wakes first drained the whole queue: a burst of 64 keep-alive clients split 58/6
 * or 62/2 at worst, and the busy worker's clients waited behind each other. With
 * UV_TCP_SINGLE_ACCEPT libuv yields after each accept, so the other worker takes its turn. Plus
 * the malloc setting above.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { UV_TCP_SINGLE_ACCEPT: '1', ...mallocEnv() };

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
 * - `--single-threaded-gc`: a worker collects on its own thread, without V8's helper threads.
 *   There is one busy worker per core, so a helper can only run on a core another worker (or the
 *   kernel's network work) needs, and a pause waits for its slowest helper: under load, p99
 *   latency was 7-35 % lower in all six comparisons of two interleaved 5-round bench runs
 *   (keep-alive requests, new CONNECT and SOCKS5 connections), at the same CPU per operation
 *   within the runs' noise (-7 to +3 %).
 * No heap limit for the old generation: tunnels are held there, and a limit would turn a large
 * but legitimate number of them into an out-of-memory crash. Not `--jitless` or `--lite-mode`:
 * they save memory by giving up the optimising compiler, which the per-request path needs.
 * They go before the daemon's own node flags in a worker's command line, and the later of two
 * settings counts: one given to node explicitly (`node --max-semi-space-size=8 …`) wins.
 */
export const ENGINE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--expose-gc', '--single-threaded-gc'];
